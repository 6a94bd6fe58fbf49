/**
 * How much the CLI reads from one input before refusing it (so `/dev/zero` or a runaway pipe
 * cannot take all memory). Far above anything real: a request is a few kilobytes, a bundle of
 * 10,000 rules about 10 MB, a PEM key under 4 KB.
 */
export const MAX_REQUEST_BYTES = 64 * 1024 * 1024;
export const MAX_BUNDLE_BYTES = 512 * 1024 * 1024;
export const MAX_KEY_BYTES = 1024 * 1024;
