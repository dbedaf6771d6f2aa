import { isIP } from "node:net";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Value } from "typebox/value";
import { DEFAULT_MAX_TTL_SECONDS, type JwtConfig } from "../auth/jwt.js";
import { derivativesProblems } from "../derivatives/policy-problems.js";
import { ConfigError } from "../errors.js";
import { BUILTIN_POLICIES } from "../policies/builtins.js";
import { templateProblems } from "../policies/key-template.js";
import { packageRoot } from "../package-root.js";
import { isMimeType, normalizeMimeType } from "../policies/mime.js";
import type { Policy } from "../policies/policy.js";
import {
  type BucketConfig,
  type DatabaseConfig,
  type Config,
  type ConfigFile,
  ConfigFileSchema,
  DEFAULT_BUCKETS,
  type MetricsConfig,
  type ScannerConfig,
} from "./schema.js";
import { NO_SECRETS, resolveSecret, type SecretUse, type SecretUses } from "./secrets.js";
import { parseStorage } from "./storage.js";
import { parseWebhooks } from "./webhooks.js";

export type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Where `npm run build` puts the upload page: `dist/page/` of this package, whether this runs from `src/` or `dist/src/`. */
const BUILT_PAGE_DIR = join(packageRoot(), "dist", "page");

/**
 * Reads the configuration once, from the environment and an optional JSON file, and validates
 * all of it: the error lists every missing or bad setting, by name. Only entry points call this.
 * `secrets` says what the command does with the local secrets: only `serve` passes
 * `SERVE_SECRETS`, the one use that may create them (see `SecretUse`).
 */
export function loadConfig(env: Env, cwd: string = process.cwd(), secrets: SecretUses = NO_SECRETS): Config {
  const problems: string[] = [];
  const int = (
    name: string,
    fallback: number,
    min: number,
    max = Number.MAX_SAFE_INTEGER,
  ): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = /^\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got '${raw}')`);
      return fallback;
    }
    return value;
  };
  /** `true`/`1`/`on` or `false`/`0`/`off`; unset: the fallback. */
  const flag = (name: string, fallback: boolean): boolean => {
    const raw = env[name]?.trim().toLowerCase();
    if (raw === undefined || raw === "") return fallback;
    if (["true", "1", "on", "yes"].includes(raw)) return true;
    if (["false", "0", "off", "no"].includes(raw)) return false;
    problems.push(`${name} must be true or false (got '${env[name] ?? ""}')`);
    return fallback;
  };
  const url = (name: string): string | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === "") return undefined;
    if (!URL.canParse(raw) || !/^https?:$/.test(new URL(raw).protocol)) {
      problems.push(`${name} must be an http(s) URL (got '${raw}')`);
      return undefined;
    }
    return raw.replace(/\/+$/, "");
  };

  const host = env.STOWAGE_HOST || "127.0.0.1";
  const port = int("STOWAGE_PORT", 8080, 0, 65535);
  const baseUrl =
    url("STOWAGE_BASE_URL") ?? `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const dataDir = resolve(cwd, env.STOWAGE_DATA_DIR || ".stowage-data");
  const production = env.NODE_ENV === "production";
  const generatedSecretFiles: string[] = [];
  const secretFiles = new Map<string, string>();

  const secret = (name: string, fileName: string, use: SecretUse): string => {
    const found = resolveSecret({ name, value: env[name], path: join(dataDir, fileName), use, production });
    if (found.problem !== undefined) problems.push(found.problem);
    if (found.file !== undefined) secretFiles.set(name, found.file);
    if (found.created === true && found.file !== undefined) generatedSecretFiles.push(found.file);
    return found.value;
  };

  const jwksUrl = url("STOWAGE_JWT_JWKS_URL");
  const issuer = env.STOWAGE_JWT_ISSUER || undefined;
  const audience = env.STOWAGE_JWT_AUDIENCE || undefined;
  if (jwksUrl !== undefined && env.STOWAGE_JWT_SECRET) {
    problems.push("set only one of STOWAGE_JWT_SECRET and STOWAGE_JWT_JWKS_URL");
  }
  // Up to a year: longer-lived bearer tokens are API keys in disguise.
  const maxTtlSeconds = int("STOWAGE_JWT_MAX_TTL_SECONDS", DEFAULT_MAX_TTL_SECONDS, 1, 365 * 86400);
  const jwt: JwtConfig =
    jwksUrl !== undefined
      ? { kind: "jwks", jwksUrl, issuer, audience, maxTtlSeconds }
      : { kind: "secret", secret: secret("STOWAGE_JWT_SECRET", "jwt-secret", secrets.jwt), issuer, audience, maxTtlSeconds };

  const storage = parseStorage(env, problems);
  const database = parseDatabaseUrl(env.DATABASE_URL, dataDir, cwd, problems);
  const logLevel = (env.LOG_LEVEL || "info") as Config["logLevel"];
  if (!LOG_LEVELS.includes(logLevel))
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`);

  const configFile = resolveConfigFile(env.STOWAGE_CONFIG_FILE, cwd, problems);
  const file = configFile === undefined ? {} : readConfigFile(configFile, problems);
  const buckets = mergeBuckets(file, url("STOWAGE_PUBLIC_BASE_URL") ?? url("R2_PUBLIC_BASE_URL"));
  const scanner = parseScanner(env.STOWAGE_CLAMD || undefined, {
    timeoutSeconds: int("STOWAGE_CLAMD_TIMEOUT_SECONDS", 60, 1, 3600),
    // clamd's own default StreamMaxLength: set it to what clamd.conf says.
    streamMaxBytes: int("STOWAGE_CLAMD_STREAM_MAX_BYTES", 25 * 1024 * 1024, 1),
  }, problems);
  const policies = mergePolicies(file, buckets, scanner?.streamMaxBytes, problems);
  const webhooks = parseWebhooks(file.webhooks?.endpoints ?? [], { env, ownerTypes: policies.map((p) => p.ownerType) }, problems);

  const config: Config = {
    host,
    port,
    baseUrl,
    dataDir,
    database,
    storage,
    jwt,
    signingSecret: secret("STOWAGE_SIGNING_SECRET", "signing-secret", secrets.signing),
    defaultQuotaBytes: int("STOWAGE_DEFAULT_QUOTA_BYTES", 100 * 1024 * 1024, 0),
    defaultOrgQuotaBytes: int("STOWAGE_DEFAULT_ORG_QUOTA_BYTES", 10 * 1024 * 1024 * 1024, 0),
    redisUrl: parseRedisUrl(env.REDIS_URL, problems),
    presignPerMinute: int("STOWAGE_PRESIGN_RATE_LIMIT", 600, 0),
    linkPresignPerMinute: int("STOWAGE_LINK_RATE_LIMIT", 30, 0),
    linkAddressPerMinute: int("STOWAGE_LINK_ADDRESS_RATE_LIMIT", 120, 0),
    maxPendingUploads: int("STOWAGE_MAX_PENDING_UPLOADS", 100, 1, 100_000),
    stagingBucket: stagingBucketOf(env.STOWAGE_STAGING_BUCKET || "private", buckets, problems),
    downloadTtlSeconds: int("STOWAGE_DOWNLOAD_URL_TTL", 300, 1, 604800),
    sweep: {
      intervalSeconds: int("STOWAGE_SWEEP_INTERVAL_SECONDS", 1800, 0),
      abandonedGraceSeconds: int("STOWAGE_SWEEP_ABANDONED_GRACE_SECONDS", 3600, 0),
      // Never less than 5 minutes: the grace is what keeps an object being written right now safe.
      orphanGraceSeconds: int("STOWAGE_SWEEP_ORPHAN_GRACE_SECONDS", 86400, 300),
      missingPerRun: int("STOWAGE_SWEEP_MISSING_PER_RUN", 10_000, 0),
      // 0: forever. At most 100 years, so the cutoff stays a date.
      historyDays: int("STOWAGE_HISTORY_DAYS", 30, 0, 36_500),
    },
    corsOrigins: parseOrigins(env.STOWAGE_CORS_ORIGINS, problems),
    trustProxy: parseTrustProxy(env.STOWAGE_TRUST_PROXY, problems),
    connections: {
      requestTimeoutSeconds: int("STOWAGE_REQUEST_TIMEOUT_SECONDS", 30, 1, 3600),
      stallTimeoutSeconds: int("STOWAGE_STALL_TIMEOUT_SECONDS", 30, 1, 3600),
      idleTimeoutSeconds: int("STOWAGE_IDLE_TIMEOUT_SECONDS", 65, 1, 3600),
      maxConnections: int("STOWAGE_MAX_CONNECTIONS", 1000, 1, 1_000_000),
      shutdownTimeoutSeconds: int("STOWAGE_SHUTDOWN_TIMEOUT_SECONDS", 10, 0, 3600),
    },
    // What the service tells about itself: on while trying it out, off in production unless asked for.
    api: {
      docs: flag("STOWAGE_API_DOCS", !production),
      graphqlIntrospection: flag("STOWAGE_GRAPHQL_INTROSPECTION", !production),
    },
    uploadPage: { enabled: flag("STOWAGE_UPLOAD_PAGE", !production), dir: BUILT_PAGE_DIR },
    metrics: parseMetrics(env, { production, port }, problems),
    logLevel,
    buckets,
    policies,
    scanner,
    events: { pollMilliseconds: int("STOWAGE_EVENTS_POLL_MS", 1000, 10, 60_000) },
    webhooks,
    configFile,
    generatedSecretFiles,
    jwtSecretFile: jwt.kind === "secret" ? secretFiles.get("STOWAGE_JWT_SECRET") : undefined,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The configuration with every secret replaced, for logs and `--print-config`. */
export function redactConfig(config: Config): Record<string, unknown> {
  const jwt = config.jwt.kind === "secret" ? { ...config.jwt, secret: "[redacted]" } : config.jwt;
  const storage = config.storage.kind === "s3" && config.storage.credentials !== undefined
    ? { ...config.storage, credentials: { accessKeyId: config.storage.credentials.accessKeyId, secretAccessKey: "[redacted]" } }
    : config.storage;
  const redisUrl = config.redisUrl === undefined ? undefined : config.redisUrl.replace(/\/\/([^@/]*)@/, "//***@");
  const metrics = config.metrics.token === undefined ? config.metrics : { ...config.metrics, token: "[redacted]" };
  const webhooks = config.webhooks.map((endpoint) => ({ ...endpoint, secrets: endpoint.secrets.map(() => "[redacted]") }));
  return { ...config, jwt, storage, redisUrl, metrics, webhooks, signingSecret: "[redacted]" };
}

/**
 * `STOWAGE_METRICS` (on|off), `STOWAGE_METRICS_PORT`, `STOWAGE_METRICS_TOKEN`. Unset, metrics
 * are on outside production, and in production only when a port or a token says where and how
 * `/metrics` may be read: never open on the public port by accident.
 */
function parseMetrics(env: Env, main: { production: boolean; port: number }, problems: string[]): MetricsConfig {
  const mode = env.STOWAGE_METRICS || undefined;
  if (mode !== undefined && mode !== "on" && mode !== "off") problems.push(`STOWAGE_METRICS must be on or off (got '${mode}')`);
  let port: number | undefined;
  const rawPort = env.STOWAGE_METRICS_PORT || undefined;
  if (rawPort !== undefined) {
    port = /^\d{1,5}$/.test(rawPort) ? Number(rawPort) : Number.NaN;
    if (!(port >= 1 && port <= 65535)) problems.push(`STOWAGE_METRICS_PORT must be a port from 1 to 65535 (got '${rawPort}')`);
    else if (port === main.port) problems.push(`STOWAGE_METRICS_PORT must differ from STOWAGE_PORT (both ${port})`);
  }
  const token = env.STOWAGE_METRICS_TOKEN || undefined;
  if (token !== undefined && token.length < 32) problems.push("STOWAGE_METRICS_TOKEN must be at least 32 characters");
  if (mode === "off" && (port !== undefined || token !== undefined)) {
    problems.push("STOWAGE_METRICS=off, but STOWAGE_METRICS_PORT or STOWAGE_METRICS_TOKEN is set: unset them or turn metrics on");
  }
  const enabled = mode === "on" || (mode === undefined && (!main.production || port !== undefined || token !== undefined));
  return { enabled, port, token };
}

/** Staging keys hold unverified bytes: their bucket must exist and must not be public. */
function stagingBucketOf(name: string, buckets: Record<string, BucketConfig>, problems: string[]): string {
  const bucket = buckets[name];
  if (bucket === undefined) problems.push(`STOWAGE_STAGING_BUCKET: bucket '${name}' is not configured`);
  else if (bucket.public) problems.push(`STOWAGE_STAGING_BUCKET: bucket '${name}' is public; uploads in flight must never be readable`);
  return name;
}

function parseRedisUrl(raw: string | undefined, problems: string[]): string | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (!/^rediss?:\/\//.test(raw) || !URL.canParse(raw)) problems.push("REDIS_URL must be a redis:// or rediss:// URL");
  return raw;
}

/**
 * Which proxies' `X-Forwarded-For` to believe for the client's address (rate limits per address,
 * logs): `false` (none, the default), `true` (any: only behind a proxy that always sets it),
 * a hop count, or the proxies' addresses/CIDRs, comma-separated.
 */
function parseTrustProxy(raw: string | undefined, problems: string[]): boolean | number | string[] {
  const value = (raw ?? "").trim();
  if (value === "" || value === "false") return false;
  if (value === "true") return true;
  if (/^\d{1,2}$/.test(value)) return Number(value);
  const entries = value.split(",").map((e) => e.trim()).filter((e) => e !== "");
  const bad = entries.filter((e) => {
    const [address, bits, extra] = e.split("/");
    return extra !== undefined || isIP(address ?? "") === 0 || (bits !== undefined && !/^\d{1,3}$/.test(bits));
  });
  if (bad.length > 0 || entries.length === 0) {
    problems.push(`STOWAGE_TRUST_PROXY must be true, false, a hop count or proxy addresses/CIDRs, comma-separated (not: ${bad.join(", ") || value})`);
  }
  return entries;
}

function parseOrigins(raw: string | undefined, problems: string[]): string[] {
  const origins = (raw ?? "").split(",").map((o) => o.trim()).filter((o) => o !== "");
  for (const origin of origins) {
    if (!URL.canParse(origin) || new URL(origin).origin !== origin.replace(/\/+$/, "")) {
      problems.push(`STOWAGE_CORS_ORIGINS: '${origin}' is not an origin like https://app.example.com`);
    }
  }
  return origins.map((o) => o.replace(/\/+$/, ""));
}

function parseDatabaseUrl(raw: string | undefined, dataDir: string, cwd: string, problems: string[]): DatabaseConfig {
  if (raw === undefined || raw === "") return { kind: "sqlite", file: join(dataDir, "stowage.db") };
  if (raw.startsWith("sqlite:")) {
    const path = raw.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
    if (path === "") problems.push("DATABASE_URL 'sqlite:' needs a file path, e.g. sqlite:./data/stowage.db");
    return { kind: "sqlite", file: path === ":memory:" ? path : resolve(cwd, path) };
  }
  if (/^postgres(ql)?:\/\//.test(raw)) {
    if (!URL.canParse(raw)) problems.push("DATABASE_URL is not a valid postgres:// URL");
    return { kind: "postgres", url: raw };
  }
  problems.push("DATABASE_URL must be a postgres://… or sqlite:… URL (e.g. sqlite:./data/stowage.db)");
  return { kind: "sqlite", file: "" };
}

function resolveConfigFile(
  raw: string | undefined,
  cwd: string,
  problems: string[],
): string | undefined {
  if (raw !== undefined && raw !== "") {
    const path = resolve(cwd, raw);
    if (!existsSync(path)) problems.push(`STOWAGE_CONFIG_FILE: ${path} does not exist`);
    return path;
  }
  const fallback = resolve(cwd, "stowage.config.json");
  return existsSync(fallback) ? fallback : undefined;
}

function readConfigFile(path: string, problems: string[]): ConfigFile {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    problems.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
    return {};
  }
  const errors = Value.Errors(ConfigFileSchema, data).filter((e) => e.keyword !== "boolean");
  for (const error of errors)
    problems.push(`${path}: ${error.instancePath || "/"} ${error.message}`);
  return errors.length === 0 ? (data as ConfigFile) : {};
}

function mergeBuckets(
  file: ConfigFile,
  publicBaseUrl: string | undefined,
): Record<string, BucketConfig> {
  const buckets: Record<string, BucketConfig> = { ...DEFAULT_BUCKETS, ...file.buckets };
  const publicBucket = buckets.public;
  if (publicBaseUrl !== undefined && publicBucket !== undefined) {
    buckets.public = { ...publicBucket, publicBaseUrl };
  }
  return buckets;
}

/** Owner types scanned by default once a scanner is configured: files people send each other. */
const SCANNED_BY_DEFAULT = new Set(["chat_upload", "document"]);

/** `STOWAGE_CLAMD`: where clamd listens, `tcp://host:port` or `host:port`. */
function parseScanner(
  raw: string | undefined,
  limits: Omit<ScannerConfig, "host" | "port">,
  problems: string[],
): ScannerConfig | undefined {
  if (raw === undefined) return undefined;
  const match = /^(?:tcp:\/\/)?(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(raw);
  const port = Number(match?.[2]);
  if (match?.[1] === undefined || !(port >= 1 && port <= 65535)) {
    problems.push(`STOWAGE_CLAMD must be tcp://host:port where clamd listens (got '${raw}')`);
    return undefined;
  }
  return { host: match[1].replace(/^\[|\]$/g, ""), port, ...limits };
}

function mergePolicies(
  file: ConfigFile,
  buckets: Record<string, BucketConfig>,
  scannerLimit: number | undefined,
  problems: string[],
): Policy[] {
  const scanner = scannerLimit !== undefined;
  const byType = new Map<string, Partial<Policy>>(BUILTIN_POLICIES.map((p) => [p.ownerType, p]));
  for (const [ownerType, override] of Object.entries(file.policies ?? {})) {
    byType.set(ownerType, { ...byType.get(ownerType), ...override, ownerType });
  }
  const policies: Policy[] = [];
  for (const [ownerType, p] of byType) {
    const where = `policy '${ownerType}'`;
    const missing = (
      ["allowedTypes", "maxBytes", "urlTtlSeconds", "keyTemplate", "bucket", "visibility"] as const
    ).filter((field) => p[field] === undefined);
    if (missing.length > 0) {
      problems.push(`${where} is missing ${missing.join(", ")}`);
      continue;
    }
    const scan = p.scan ?? (scanner && SCANNED_BY_DEFAULT.has(ownerType));
    if (scan && !scanner) problems.push(`${where} asks for virus scanning (scan: true), but no scanner is configured: set STOWAGE_CLAMD`);
    // A scanned type takes no more than the scanner reads: refused at presign, before any byte moves.
    const maxBytes = scan && scannerLimit !== undefined && p.maxBytes !== undefined ? Math.min(p.maxBytes, scannerLimit) : p.maxBytes;
    const policy = { cacheControl: "private, max-age=86400", ...p, ownerType, scan, maxBytes } as Policy;
    const allowedTypes = policy.allowedTypes.map(normalizeMimeType);
    for (const type of allowedTypes)
      if (!isMimeType(type)) problems.push(`${where}: '${type}' is not a MIME type`);
    for (const problem of templateProblems(policy.keyTemplate))
      problems.push(`${where}: keyTemplate ${problem}`);
    for (const problem of derivativesProblems(allowedTypes, policy.derivatives))
      problems.push(`${where}: ${problem}`);
    const bucket = buckets[policy.bucket];
    if (bucket === undefined)
      problems.push(`${where}: bucket '${policy.bucket}' is not configured`);
    else if (policy.visibility === "public" && !bucket.public) {
      problems.push(`${where} is public but bucket '${policy.bucket}' is not`);
    }
    policies.push({ ...policy, allowedTypes });
  }
  return policies;
}
