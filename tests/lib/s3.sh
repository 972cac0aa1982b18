# SPDX-License-Identifier: Apache-2.0
# Helpers for tests that run under tests/s3/with_rgw.sh (AWS_* and RGW_* set).
# The AWS CLI serves as the independent reader of what the uploader stored.

need_rgw() { [ -n "${RGW_DIR:-}" ] || fail "run through tests/s3/with_rgw.sh"; }

# awscli ARGS...: Debian's AWS CLI against the test RGW.
awscli() { /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL_S3" "$@"; }

# bucket_keys PREFIX: every key under PREFIX/, one per line, sorted.
bucket_keys() {
    awscli s3api list-objects-v2 --bucket "$RGW_BUCKET" --prefix "$1/" --query 'Contents[].Key' \
        --output text | tr '\t' '\n' | grep -v '^None$' | sort
}

# open_multipart PREFIX: number of unfinished multipart uploads under PREFIX/.
open_multipart() {
    awscli s3api list-multipart-uploads --bucket "$RGW_BUCKET" --prefix "$1/" --query 'length(Uploads || `[]`)' \
        --output text
}

# same_as_buffer BUF PREFIX: the bucket's objects under PREFIX/ are exactly the
# buffer's sealed segment objects and node keys, byte for byte (checkpoints aside).
same_as_buffer() {
    local buf=$1 prefix=$2 got
    got=$(mktemp -d "$TV_TMP/got.XXXX")
    awscli s3 cp --quiet --recursive "s3://$RGW_BUCKET/$prefix/" "$got/" || fail "aws s3 cp"
    # the uploader's checkpoints live in the bucket only (docs/FORMAT.md §9)
    rm -rf "$got/v1/checkpoints"
    diff <(cd "$buf" && find v1 -type f | sort) <(cd "$got" && find v1 -type f | sort) ||
        fail "the bucket's keys differ from the buffer's (< buffer, > bucket)"
    diff -r "$buf/v1" "$got/v1" >/dev/null || fail "an object in the bucket differs from the buffer"
    echo "$(cd "$got" && find v1 -type f | wc -l) objects identical in buffer and bucket"
    rm -rf "$got"
}
