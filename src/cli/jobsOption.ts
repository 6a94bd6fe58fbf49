/** `--jobs N` of `test` and `diff`: threads per recording, 1 to 64; undefined when not given, null when invalid. */
export function parseJobs(value: string | undefined): number | undefined | null {
  if (value === undefined) return undefined;
  const jobs = Number(value);
  return /^[0-9]+$/.test(value) && jobs >= 1 && jobs <= 64 ? jobs : null;
}

export const JOBS_HELP = "threads per recording (default: one per core, up to 8, for recordings of 64 MB or more; else 1)";
