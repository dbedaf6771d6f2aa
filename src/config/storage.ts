import type { Env } from "./load.js";

/** Where objects live: local disk (embedded default) or an S3-compatible service. */
export type StorageConfig =
  | { kind: "local" }
  | {
    kind: "s3";
    /** Which settings family configured it, for messages (`STOWAGE_S3_*`, `R2_*`, `MINIO_*`). */
    via: "stowage" | "r2" | "minio";
    endpoint: string | undefined;
    publicEndpoint: string | undefined;
    region: string;
    forcePathStyle: boolean;
    credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
    /** The provider's bucket for media, and for compliance records (defaults to the same). */
    bucket: string;
    complianceBucket: string;
    postPolicy: boolean;
    conditionalWrites: boolean;
  };

/** Setting names, first match wins: Stowage's own, then the names R2 and MinIO users already have. */
const NAMES = {
  endpoint: ["STOWAGE_S3_ENDPOINT", "R2_ENDPOINT_URL", "MINIO_ENDPOINT"],
  publicEndpoint: ["STOWAGE_S3_PUBLIC_ENDPOINT", "MINIO_PUBLIC_ENDPOINT"],
  region: ["STOWAGE_S3_REGION", "R2_REGION", "AWS_REGION"],
  accessKeyId: ["STOWAGE_S3_ACCESS_KEY_ID", "R2_ACCESS_KEY_ID", "MINIO_ACCESS_KEY"],
  secretAccessKey: ["STOWAGE_S3_SECRET_ACCESS_KEY", "R2_SECRET_ACCESS_KEY", "MINIO_SECRET_KEY"],
  bucket: ["STOWAGE_S3_BUCKET", "R2_BUCKET_NAME", "MINIO_BUCKET"],
  complianceBucket: ["STOWAGE_S3_COMPLIANCE_BUCKET", "R2_COMPLIANCE_BUCKET_NAME"],
} as const;

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Storage settings from the environment. `STOWAGE_STORAGE=s3` selects S3; `R2_ENABLED=true` or a
 * `MINIO_ENDPOINT` select it too, so existing R2/MinIO deployments start without renaming
 * anything. Every missing or bad setting is reported at once.
 */
export function parseStorage(env: Env, problems: string[]): StorageConfig {
  const r2 = /^(1|true|yes)$/i.test(env.R2_ENABLED ?? "");
  const minio = !r2 && Boolean(env.MINIO_ENDPOINT);
  const kind = env.STOWAGE_STORAGE || (r2 || minio ? "s3" : "local");
  if (kind === "local") return { kind: "local" };
  if (kind !== "s3") {
    problems.push(`STOWAGE_STORAGE must be 'local' or 's3' (got '${kind}')`);
    return { kind: "local" };
  }
  const via = r2 ? "r2" : minio ? "minio" : "stowage";
  const pick = (names: readonly string[]) => names.map((n) => env[n]).find((v) => v !== undefined && v !== "");
  /** The name of the setting a value came from, so a problem names what the user actually set. */
  const source = (names: readonly string[]) => names.find((n) => env[n] !== undefined && env[n] !== "") ?? names[0] ?? "";

  const missing: string[] = [];
  if (r2) {
    for (const name of ["R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY", "R2_BUCKET_NAME", "R2_ENDPOINT_URL"]) {
      if (!env[name] && !pick(NAMES[aliasOf(name)])) missing.push(name);
    }
  } else if (minio) {
    for (const name of ["MINIO_ACCESS_KEY", "MINIO_SECRET_KEY", "MINIO_BUCKET"]) {
      if (!env[name] && !pick(NAMES[aliasOf(name)])) missing.push(name);
    }
  } else if (!pick(NAMES.bucket)) {
    missing.push("STOWAGE_S3_BUCKET");
  }
  if (missing.length > 0) {
    const what = r2 ? "R2_ENABLED=true" : minio ? "MINIO_ENDPOINT is set" : "STOWAGE_STORAGE=s3";
    problems.push(`${what} but these settings are missing: ${missing.join(", ")}`);
  }

  const endpoint = normalizeEndpoint(pick(NAMES.endpoint), source(NAMES.endpoint), problems);
  const publicEndpoint = normalizeEndpoint(pick(NAMES.publicEndpoint), source(NAMES.publicEndpoint), problems);
  const accessKeyId = pick(NAMES.accessKeyId);
  const secretAccessKey = pick(NAMES.secretAccessKey);
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined) && missing.length === 0) {
    problems.push("set both STOWAGE_S3_ACCESS_KEY_ID and STOWAGE_S3_SECRET_ACCESS_KEY, or neither (to use the AWS credential chain)");
  }
  const bucket = pick(NAMES.bucket) ?? "";
  const complianceBucket = pick(NAMES.complianceBucket) ?? bucket;
  const named: [string, string | undefined][] = [
    [source(NAMES.bucket), bucket],
    // Checked only when set: it defaults to the media bucket, already checked.
    [source(NAMES.complianceBucket), pick(NAMES.complianceBucket)],
  ];
  for (const [name, value] of named) {
    if (value && !BUCKET_NAME.test(value)) problems.push(`${name} '${value}' is not a valid bucket name`);
  }
  const flag = (name: string, fallback: boolean) => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    if (/^(1|true|yes)$/i.test(raw)) return true;
    if (/^(0|false|no)$/i.test(raw)) return false;
    problems.push(`${name} must be true or false (got '${raw}')`);
    return fallback;
  };
  return {
    kind: "s3",
    via,
    endpoint,
    publicEndpoint,
    region: pick(NAMES.region) ?? (r2 ? "auto" : "us-east-1"),
    // Custom endpoints (R2, MinIO, Ceph) are addressed path-style; AWS itself virtual-hosted.
    forcePathStyle: flag("STOWAGE_S3_FORCE_PATH_STYLE", endpoint !== undefined),
    credentials:
      accessKeyId !== undefined && secretAccessKey !== undefined ? { accessKeyId, secretAccessKey } : undefined,
    bucket,
    complianceBucket,
    // Off unless asked for: a POST form cannot carry `If-None-Match`, so a handed-out form can be
    // submitted again until it expires (into the staging key, never served, but accepted by the
    // store). R2 has no POST policies at all; never offer them there.
    postPolicy: flag("STOWAGE_S3_POST_POLICY", false) && !r2 && !(endpoint ?? "").toLowerCase().includes(".r2.cloudflarestorage.com"),
    conditionalWrites: flag("STOWAGE_S3_CONDITIONAL_WRITES", true),
  };
}

function aliasOf(name: string): keyof typeof NAMES {
  for (const [field, names] of Object.entries(NAMES)) {
    if ((names as readonly string[]).includes(name)) return field as keyof typeof NAMES;
  }
  throw new Error(`no alias group for ${name}`);
}

/** `minio:9000` → `http://minio:9000`; URLs are kept, without a trailing slash. */
function normalizeEndpoint(raw: string | undefined, name: string, problems: string[]): string | undefined {
  if (raw === undefined) return undefined;
  const withScheme = /^https?:\/\//.test(raw) ? raw : `http://${raw}`;
  if (!URL.canParse(withScheme)) {
    problems.push(`${name} must be a URL such as https://s3.example.com (got '${raw}')`);
    return undefined;
  }
  return withScheme.replace(/\/+$/, "");
}
