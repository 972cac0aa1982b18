#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs a command against the RGW that the s3_rgw_start fixture started in DIR:
#   tests/s3/with_rgw.sh DIR CMD [ARGS...]
# The command sees AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
# AWS_REGION and RGW_BUCKET, and nothing from the user's own AWS files.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: $0 DIR CMD...}
shift
if [ ! -f "$dir/rgw.port" ]; then
    echo "with_rgw: no RGW running in $dir (the s3_rgw_start fixture failed or was skipped)" >&2
    exit 1
fi
eval "$("$HERE/../../scripts/rgw.sh" env "$dir")"
export AWS_CONFIG_FILE=$dir/aws-config AWS_SHARED_CREDENTIALS_FILE=$dir/aws-config RGW_DIR=$dir
exec "$@"
