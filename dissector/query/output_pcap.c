/* SPDX-License-Identifier: Apache-2.0 */
/* output_pcap: see output_pcap.h. */
#include "dissector/query/output_pcap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/common/err.h"
#include "archive/common/fsutil.h"

#define PCAP_NS_MAGIC 0xA1B23C4Du

int tv_pcap_format_parse(const char *name, enum tv_pcap_format *out)
{
	if (strcmp(name, "pcapng") == 0)
		*out = TV_FORMAT_PCAPNG;
	else if (strcmp(name, "pcap") == 0)
		*out = TV_FORMAT_PCAP;
	else
		return tv_err(-EINVAL, "unknown format '%s' (pcapng or pcap)", name);
	return 0;
}

static const char *shown_name(const struct tv_pcap_out *o)
{
	return o->tmp_path ? o->tmp_path : o->path ? o->path : "stdout";
}

static int flush_buf(struct tv_pcap_out *o)
{
	if (o->buf.len && fwrite(o->buf.data, 1, o->buf.len, o->f) != o->buf.len)
		return tv_err(-EIO, "write %s: %s", shown_name(o), strerror(errno));
	tv_buf_reset(&o->buf);
	return 0;
}

static int write_header(struct tv_pcap_out *o, const struct tv_iface *ifaces, const char *const *descriptions,
			uint32_t niface)
{
	int rc = 0;
	if (o->format == TV_FORMAT_PCAPNG) {
		rc = tv_pcapng_put_shb(&o->buf, NULL);
		for (uint32_t i = 0; !rc && i < niface; i++)
			rc = tv_pcapng_put_idb(&o->buf, &ifaces[i], descriptions ? descriptions[i] : NULL);
		return rc ? tv_err(rc, "out of memory") : flush_buf(o);
	}
	uint32_t snap = 0;
	for (uint32_t i = 0; i < niface; i++) {
		if (ifaces[i].linktype != ifaces[0].linktype)
			return tv_err(-EINVAL,
				      "classic pcap holds one link type; interfaces %s and %s differ "
				      "(use --format pcapng)",
				      ifaces[0].name, ifaces[i].name);
		if (ifaces[i].snaplen > snap)
			snap = ifaces[i].snaplen;
	}
	o->linktype = niface ? ifaces[0].linktype : 1;
	tv_buf_put_u32(&o->buf, PCAP_NS_MAGIC);
	tv_buf_put_u16(&o->buf, 2);
	tv_buf_put_u16(&o->buf, 4);
	tv_buf_put_u32(&o->buf, 0);
	tv_buf_put_u32(&o->buf, 0);
	tv_buf_put_u32(&o->buf, snap ? snap : 262144);
	tv_buf_put_u32(&o->buf, o->linktype);
	return flush_buf(o);
}

int tv_pcap_out_open(struct tv_pcap_out *o, const char *path, enum tv_pcap_format format,
		     const struct tv_iface *ifaces, const char *const *descriptions, uint32_t niface)
{
	memset(o, 0, sizeof(*o));
	o->format = format;
	tv_buf_init(&o->buf, 64 << 20);
	if (strcmp(path, "-") == 0) {
		o->f = stdout;
	} else if (tv_is_special_file(path)) {
		if (!(o->path = strdup(path)))
			return tv_err(-ENOMEM, "out of memory");
		if (!(o->f = fopen(path, "wb"))) {
			int rc = tv_err(-errno, "open %s: %s", path, strerror(errno));
			tv_pcap_out_abort(o);
			return rc;
		}
	} else {
		size_t n = strlen(path) + 32;
		o->path = strdup(path);
		o->tmp_path = malloc(n);
		if (!o->path || !o->tmp_path) {
			tv_pcap_out_abort(o);
			return tv_err(-ENOMEM, "out of memory");
		}
		snprintf(o->tmp_path, n, "%s.tmp.%d", path, (int)getpid());
		if (!(o->f = fopen(o->tmp_path, "wbx"))) {
			int rc = tv_err(-errno, "create %s: %s", o->tmp_path, strerror(errno));
			tv_pcap_out_abort(o);
			return rc;
		}
	}
	int rc = write_header(o, ifaces, descriptions, niface);
	if (rc)
		tv_pcap_out_abort(o);
	return rc;
}

int tv_pcap_out_open_stream(struct tv_pcap_out *o, FILE *f, enum tv_pcap_format format,
			    const struct tv_iface *ifaces, const char *const *descriptions, uint32_t niface)
{
	memset(o, 0, sizeof(*o));
	o->format = format;
	o->f = f;
	o->borrowed = true;
	tv_buf_init(&o->buf, 64 << 20);
	int rc = write_header(o, ifaces, descriptions, niface);
	if (rc)
		tv_pcap_out_abort(o);
	return rc;
}

int tv_pcap_out_write(struct tv_pcap_out *o, const struct tv_packet *p)
{
	return tv_pcap_out_write_comment(o, p, NULL);
}

int tv_pcap_out_write_comment(struct tv_pcap_out *o, const struct tv_packet *p, const char *comment)
{
	int rc;
	if (o->format == TV_FORMAT_PCAPNG) {
		rc = tv_pcapng_put_epb_comment(&o->buf, p->ifindex, p->ts_ns, p->data, p->caplen, p->origlen,
					       comment);
	} else {
		rc = tv_buf_put_u32(&o->buf, (uint32_t)(p->ts_ns / 1000000000ULL));
		tv_buf_put_u32(&o->buf, (uint32_t)(p->ts_ns % 1000000000ULL));
		tv_buf_put_u32(&o->buf, p->caplen);
		tv_buf_put_u32(&o->buf, p->origlen);
		if (!rc)
			rc = tv_buf_append(&o->buf, p->data, p->caplen);
	}
	if (rc)
		return tv_err(rc, "out of memory");
	o->packets++;
	return o->buf.len >= (1 << 20) ? flush_buf(o) : 0;
}

int tv_pcap_out_commit(struct tv_pcap_out *o)
{
	int rc = flush_buf(o);
	if (!rc && fflush(o->f) != 0)
		rc = tv_err(-errno, "write %s: %s", shown_name(o), strerror(errno));
	if (o->path && !o->tmp_path) {
		if (fclose(o->f) != 0 && !rc)
			rc = tv_err(-errno, "close %s: %s", o->path, strerror(errno));
		o->f = NULL;
	} else if (o->path) {
		if (!rc && fsync(fileno(o->f)) != 0)
			rc = tv_err(-errno, "fsync %s: %s", o->tmp_path, strerror(errno));
		if (fclose(o->f) != 0 && !rc)
			rc = tv_err(-errno, "close %s: %s", o->tmp_path, strerror(errno));
		o->f = NULL;
		if (!rc && rename(o->tmp_path, o->path) != 0)
			rc = tv_err(-errno, "rename %s: %s", o->path, strerror(errno));
	}
	if (rc) {
		tv_pcap_out_abort(o);
		return rc;
	}
	free(o->path);
	free(o->tmp_path);
	tv_buf_cleanup(&o->buf);
	o->path = o->tmp_path = NULL;
	return 0;
}

void tv_pcap_out_abort(struct tv_pcap_out *o)
{
	if (o->f && o->borrowed)
		fflush(o->f);
	else if (o->f && o->f != stdout)
		fclose(o->f);
	o->f = NULL;
	if (o->tmp_path)
		unlink(o->tmp_path);
	free(o->path);
	free(o->tmp_path);
	o->path = o->tmp_path = NULL;
	tv_buf_cleanup(&o->buf);
}
