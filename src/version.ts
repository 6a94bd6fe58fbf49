/** The compiler version, written into bundles' manifests. Kept in step with package.json by a test. */
export const VERSION = "0.16.0";
