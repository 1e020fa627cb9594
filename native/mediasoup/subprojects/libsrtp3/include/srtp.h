/*
 * OmniLive: the libsrtp 3 API that mediasoup-worker (3.13 and later) calls, on top of
 * libsrtp 2 (Debian bookworm ships 2.5). mediasoup does `#include <srtp.h>` and this
 * directory is on its include path (see ../meson.build).
 *
 * What libsrtp 3 changed, and how it maps onto libsrtp 2:
 *  - protect/unprotect take size_t lengths and a separate output buffer; libsrtp 2
 *    works in place on an int length, so the input is copied into the output buffer
 *    first (mediasoup decrypts in place, so that copy is skipped there);
 *  - srtp_protect/srtp_protect_rtcp take an MKI index; mediasoup uses no MKI (index 0),
 *    which is what libsrtp 2's srtp_protect/srtp_protect_rtcp do;
 *  - srtp_remove_stream was renamed srtp_stream_remove (same SSRC convention: network
 *    byte order);
 *  - two new error codes, srtp_err_status_buffer_small and srtp_err_status_cryptex_err.
 */
#ifndef OMNILIVE_SRTP3_COMPAT_H
#define OMNILIVE_SRTP3_COMPAT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <srtp2/srtp.h>

/* libsrtp 3 numbers them right after srtp_err_status_pkt_idx_adv (27). */
#define srtp_err_status_buffer_small ((srtp_err_status_t)28)
#define srtp_err_status_cryptex_err ((srtp_err_status_t)29)

/*
 * Copies in[0..in_len) to out (unless it is the same buffer) and sets *len, after
 * checking that out has room for the packet plus `trailer` bytes, which libsrtp 2 may
 * append in place.
 */
static inline srtp_err_status_t omnilive_srtp3_to_inplace(
  const uint8_t* in, size_t in_len, uint8_t* out, size_t out_size, size_t trailer, int* len)
{
	if (in == NULL || out == NULL || in_len > (size_t)INT_MAX - trailer)
		return srtp_err_status_bad_param;
	if (out_size < in_len + trailer)
		return srtp_err_status_buffer_small;
	if (out != in)
		memmove(out, in, in_len);
	*len = (int)in_len;
	return srtp_err_status_ok;
}

static inline srtp_err_status_t omnilive_srtp3_protect(
  srtp_t ctx, const uint8_t* rtp, size_t rtp_len, uint8_t* srtp, size_t* srtp_len, size_t mki_index)
{
	int len;
	srtp_err_status_t err;

	if (mki_index != 0)
		return srtp_err_status_bad_mki;
	err = omnilive_srtp3_to_inplace(rtp, rtp_len, srtp, *srtp_len, SRTP_MAX_TRAILER_LEN, &len);
	if (err == srtp_err_status_ok)
		err = srtp_protect(ctx, srtp, &len);
	if (err == srtp_err_status_ok)
		*srtp_len = (size_t)len;
	return err;
}

static inline srtp_err_status_t omnilive_srtp3_unprotect(
  srtp_t ctx, const uint8_t* srtp, size_t srtp_len, uint8_t* rtp, size_t* rtp_len)
{
	int len;
	srtp_err_status_t err = omnilive_srtp3_to_inplace(srtp, srtp_len, rtp, *rtp_len, 0, &len);

	if (err == srtp_err_status_ok)
		err = srtp_unprotect(ctx, rtp, &len);
	if (err == srtp_err_status_ok)
		*rtp_len = (size_t)len;
	return err;
}

static inline srtp_err_status_t omnilive_srtp3_protect_rtcp(
  srtp_t ctx, const uint8_t* rtcp, size_t rtcp_len, uint8_t* srtcp, size_t* srtcp_len, size_t mki_index)
{
	int len;
	srtp_err_status_t err;

	if (mki_index != 0)
		return srtp_err_status_bad_mki;
	/* libsrtp 2 appends up to SRTP_MAX_TRAILER_LEN + 4 (the SRTCP index) to RTCP. */
	err = omnilive_srtp3_to_inplace(rtcp, rtcp_len, srtcp, *srtcp_len, SRTP_MAX_TRAILER_LEN + 4, &len);
	if (err == srtp_err_status_ok)
		err = srtp_protect_rtcp(ctx, srtcp, &len);
	if (err == srtp_err_status_ok)
		*srtcp_len = (size_t)len;
	return err;
}

static inline srtp_err_status_t omnilive_srtp3_unprotect_rtcp(
  srtp_t ctx, const uint8_t* srtcp, size_t srtcp_len, uint8_t* rtcp, size_t* rtcp_len)
{
	int len;
	srtp_err_status_t err = omnilive_srtp3_to_inplace(srtcp, srtcp_len, rtcp, *rtcp_len, 0, &len);

	if (err == srtp_err_status_ok)
		err = srtp_unprotect_rtcp(ctx, rtcp, &len);
	if (err == srtp_err_status_ok)
		*rtcp_len = (size_t)len;
	return err;
}

static inline srtp_err_status_t srtp_stream_remove(srtp_t session, uint32_t ssrc)
{
	return srtp_remove_stream(session, ssrc);
}

/* From here on, mediasoup's calls go to the libsrtp 3 signatures above. */
#define srtp_protect omnilive_srtp3_protect
#define srtp_unprotect omnilive_srtp3_unprotect
#define srtp_protect_rtcp omnilive_srtp3_protect_rtcp
#define srtp_unprotect_rtcp omnilive_srtp3_unprotect_rtcp

#endif
