import Type, { type Static } from "typebox";
import type { JwtConfig } from "../auth/jwt.js";
import {
  DERIVATIVE_FITS,
  DERIVATIVE_FORMATS,
  MAX_DERIVATIVE_DIMENSION,
  MAX_DERIVATIVES_PER_POLICY,
  PRESET_NAME_PATTERN,
} from "../derivatives/preset.js";
import type { Policy } from "../policies/policy.js";
import type { WebhookEndpoint } from "../webhooks/endpoint.js";
import type { StorageConfig } from "./storage.js";

/** One derivative preset (`src/derivatives/preset.ts`): a fixed size, fit and format. */
export const DerivativePresetFileSchema = Type.Object(
  {
    width: Type.Integer({ minimum: 1, maximum: MAX_DERIVATIVE_DIMENSION }),
    height: Type.Integer({ minimum: 1, maximum: MAX_DERIVATIVE_DIMENSION }),
    fit: Type.Union(DERIVATIVE_FITS.map((fit) => Type.Literal(fit))),
    format: Type.Union(DERIVATIVE_FORMATS.map((format) => Type.Literal(format))),
    quality: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  },
  { additionalProperties: false },
);

/** A policy as written in the config file: every field optional when overriding a built-in. */
export const PolicyFileSchema = Type.Object(
  {
    allowedTypes: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
    maxBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 * 1024 ** 4 })),
    multipartThresholdBytes: Type.Optional(Type.Integer({ minimum: 5 * 1024 * 1024 })),
    retentionDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 36500 })),
    expireAfterDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 36500 })),
    attachWithinSeconds: Type.Optional(Type.Integer({ minimum: 60 })),
    urlTtlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 604800 })),
    keyTemplate: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    bucket: Type.Optional(Type.String()),
    visibility: Type.Optional(Type.Union([Type.Literal("public"), Type.Literal("private")])),
    cacheControl: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    allowedRoles: Type.Optional(Type.Array(Type.String())),
    /**
     * Replaces the built-in's presets as a whole (`{}` turns them off). A record's key pattern
     * alone does not refuse other keys (patternProperties), hence `additionalProperties: false`.
     */
    derivatives: Type.Optional(
      Type.Record(Type.String({ pattern: PRESET_NAME_PATTERN }), DerivativePresetFileSchema, {
        maxProperties: MAX_DERIVATIVES_PER_POLICY,
        additionalProperties: false,
      }),
    ),
  },
  { additionalProperties: false },
);

export const BucketFileSchema = Type.Object(
  {
    public: Type.Boolean(),
    /** The provider's bucket name (S3), when it differs from the one the environment sets. */
    name: Type.Optional(Type.String({ pattern: "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$" })),
    publicBaseUrl: Type.Optional(Type.String({ pattern: "^https?://" })),
  },
  { additionalProperties: false },
);

/**
 * A webhook endpoint as written in the config file. The schema checks shapes; `parseWebhooks`
 * checks meaning (URL, secrets, event and owner types, unique ids) with messages that name the endpoint.
 *
 * @example
 * { "id": "billing", "url": "https://billing.example.com/hooks/stowage", "secretEnv": "BILLING_WEBHOOK_SECRETS",
 *   "events": ["upload.confirmed", "upload.deleted"], "ownerTypes": ["document"], "timeoutSeconds": 5 }
 */
export const WebhookEndpointFileSchema = Type.Object(
  {
    id: Type.String({ pattern: "^[a-z0-9][a-z0-9-]{0,62}$" }),
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    /** `whsec_<base64>` secrets, the current one first; or `secretEnv`, never both. */
    secrets: Type.Optional(Type.Array(Type.String(), { minItems: 1, maxItems: 10 })),
    /** The name of an environment variable holding the secrets, space-separated. */
    secretEnv: Type.Optional(Type.String({ pattern: "^[A-Za-z_][A-Za-z0-9_]{0,127}$" })),
    events: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
    ownerTypes: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 60 })),
  },
  { additionalProperties: false },
);
export type WebhookEndpointFile = Static<typeof WebhookEndpointFileSchema>;

/**
 * The optional config file (`stowage.config.json`): owner-type policies and buckets, the
 * structured settings that do not fit environment variables.
 */
export const ConfigFileSchema = Type.Object(
  {
    policies: Type.Optional(
      Type.Record(Type.String({ pattern: "^[a-z][a-z0-9_]{0,63}$" }), PolicyFileSchema),
    ),
    buckets: Type.Optional(
      Type.Record(Type.String({ pattern: "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$" }), BucketFileSchema),
    ),
    webhooks: Type.Optional(
      Type.Object({ endpoints: Type.Array(WebhookEndpointFileSchema) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);
export type ConfigFile = Static<typeof ConfigFileSchema>;

export type DatabaseConfig = { kind: "sqlite"; file: string } | { kind: "postgres"; url: string };

export interface BucketConfig {
  public: boolean;
  name?: string | undefined;
  publicBaseUrl?: string | undefined;
}

/** The whole validated configuration. Built once by `loadConfig`; everything else takes it as data. */
export interface Config {
  host: string;
  port: number;
  /** Externally reachable URL of this instance (local storage URLs point here). */
  baseUrl: string;
  dataDir: string;
  database: DatabaseConfig;
  storage: StorageConfig;
  jwt: JwtConfig;
  signingSecret: string;
  defaultQuotaBytes: number;
  defaultOrgQuotaBytes: number;
  /** Shared cache and rate limits across instances; absent: in process. */
  redisUrl: string | undefined;
  /** Presigns per user per minute; 0 disables the limit. */
  presignPerMinute: number;
  /** Presigns per upload link per minute; 0 disables the limit. */
  linkPresignPerMinute: number;
  /** Requests made with upload-link tokens (wrong ones too) per client address per minute; 0 disables the limit. */
  linkAddressPerMinute: number;
  /** Pending uploads (each holding its size reserved) one user may have at once. */
  maxPendingUploads: number;
  /** The logical bucket that staging keys (where clients upload) live in; never public. */
  stagingBucket: string;
  downloadTtlSeconds: number;
  /** The cleanup sweeper in `serve` (`src/sweeper/`): every `intervalSeconds` (0: never), with its cutoffs. */
  sweep: {
    intervalSeconds: number;
    abandonedGraceSeconds: number;
    orphanGraceSeconds: number;
    /** Confirmed uploads the missing-object check HEADs per run (0: all of them). */
    missingPerRun: number;
    /**
     * Days finished history is kept (`STOWAGE_HISTORY_DAYS`): upload rows deleted, expired,
     * rejected or infected that long ago, outbox events settled that long ago, links over that
     * long ago are purged by the sweeper. 0 keeps them forever.
     */
    historyDays: number;
  };
  /** Browser origins allowed by CORS (API, and local storage uploads). */
  corsOrigins: string[];
  /** Whose `X-Forwarded-For` names the client (Fastify's `trustProxy`): none, any, a hop count, or these proxies. */
  trustProxy: boolean | number | string[];
  /** How long a client may hold a connection (`src/http/connection-limits.ts`). */
  connections: ConnectionConfig;
  /** The API's self-description: the OpenAPI document and `/docs` page, GraphQL introspection. */
  api: { docs: boolean; graphqlIntrospection: boolean };
  /** The upload page at `/` (`src/http/upload-page.ts`). */
  uploadPage: UploadPageConfig;
  /** The outbox dispatcher: how often it looks for work when nothing woke it (`STOWAGE_EVENTS_POLL_MS`). */
  events: { pollMilliseconds: number };
  /** The virus scanner (`STOWAGE_CLAMD`); policies with `scan` need one. */
  scanner: ScannerConfig | undefined;
  /** Prometheus metrics (`src/metrics/`) and where `GET /metrics` is served. */
  metrics: MetricsConfig;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  buckets: Record<string, BucketConfig>;
  policies: Policy[];
  /** Where upload events are sent (`src/webhooks/`); empty: nowhere. */
  webhooks: WebhookEndpoint[];
  /** Where the config file came from, if any. */
  configFile: string | undefined;
  /** Secrets generated on this start for local use (never their values). */
  generatedSecretFiles: string[];
  /** The file the JWT secret came from; undefined when the environment set it (or with JWKS). */
  jwtSecretFile: string | undefined;
}

/** clamd over TCP (`STOWAGE_CLAMD`), and how long a scan may go without progress. */
export interface ScannerConfig {
  host: string;
  port: number;
  timeoutSeconds: number;
  /**
   * clamd's StreamMaxLength (`STOWAGE_CLAMD_STREAM_MAX_BYTES`, default clamd's 25 MiB): a bigger
   * object is refused here (FILE_TOO_LARGE_TO_SCAN) rather than sent for clamd to cut off.
   */
  streamMaxBytes: number;
}

/**
 * Metrics exposure. Off: nothing is counted and `/metrics` answers 404. On: `/metrics` on the
 * main port, or only on `port` when set; behind `Authorization: Bearer <token>` when a token is set.
 */
export interface MetricsConfig {
  enabled: boolean;
  /** Serve `/metrics` on its own listener on this port (same host), and not on the main port. */
  port: number | undefined;
  /** At least 32 characters; required as a bearer token wherever `/metrics` is served. */
  token: string | undefined;
}

/** The browser page served at `/`: sign in, upload (on the client SDK), see and delete uploads, the quota and the owner types. */
export interface UploadPageConfig {
  /** `STOWAGE_UPLOAD_PAGE`: on by default, off by default with `NODE_ENV=production`. */
  enabled: boolean;
  /**
   * The built page (`index.html` and `assets/`), as `npm run build` writes it: `dist/page/` of
   * this package. Not an environment setting; tests point it at a build of their own.
   */
  dir: string;
}

/** Connection limits and shutdown, in seconds. */
export interface ConnectionConfig {
  /** Headers, and the body of an API request, must have fully arrived within this. */
  requestTimeoutSeconds: number;
  /** An upload body (`/storage` PUT) from which no byte arrives for this long is cut. */
  stallTimeoutSeconds: number;
  /** A connection idle between requests, or not reading its answer, is closed after this. */
  idleTimeoutSeconds: number;
  /** Open connections at most; beyond it new ones are closed at once. */
  maxConnections: number;
  /** On SIGTERM/SIGINT, requests in flight get this long to finish before they are cut. */
  shutdownTimeoutSeconds: number;
}

/** Built-in buckets: one public (avatars), one private, one for compliance records. */
export const DEFAULT_BUCKETS: Record<string, BucketConfig> = {
  public: { public: true },
  private: { public: false },
  compliance: { public: false },
};
