import type { Policy } from "./policy.js";

const MB = 1000 * 1000;
const DAY_CACHE = "public, max-age=86400";
const PRIVATE_CACHE = "private, max-age=86400";

const IMAGES = ["image/jpeg", "image/png", "image/webp", "image/gif", "image/heic", "image/avif"];

/**
 * Built-in owner types, taken from what real apps upload. A config file can override any
 * field of these or add new owner types.
 */
export const BUILTIN_POLICIES: readonly Policy[] = [
  {
    ownerType: "avatar",
    allowedTypes: ["image/jpeg", "image/png"],
    maxBytes: 5 * MB,
    urlTtlSeconds: 5 * 60,
    keyTemplate: "avatars/{userId}/{id}.{ext}",
    bucket: "public",
    visibility: "public",
    cacheControl: DAY_CACHE,
    // Avatars are shown small far more often than large: a square thumbnail for lists and headers.
    derivatives: { thumb: { width: 256, height: 256, fit: "cover", format: "webp" } },
  },
  {
    ownerType: "document",
    allowedTypes: ["application/pdf", ...IMAGES],
    maxBytes: 50 * MB,
    urlTtlSeconds: 15 * 60,
    keyTemplate: "documents/{userId}/{id}.{ext}",
    bucket: "private",
    visibility: "private",
    cacheControl: PRIVATE_CACHE,
  },
  {
    ownerType: "voice_note",
    allowedTypes: ["audio/webm", "audio/mpeg", "audio/ogg"],
    maxBytes: 25 * MB,
    urlTtlSeconds: 10 * 60,
    keyTemplate: "voice-notes/{userId}/{id}.{ext}",
    bucket: "private",
    visibility: "private",
    cacheControl: PRIVATE_CACHE,
  },
  {
    ownerType: "chat_upload",
    allowedTypes: [
      ...IMAGES,
      "application/pdf",
      "audio/webm",
      "audio/mpeg",
      "audio/ogg",
      "audio/mp4",
      "video/mp4",
      "video/webm",
      "video/quicktime",
      "application/zip",
      "text/plain",
      "text/csv",
    ],
    maxBytes: 50 * MB,
    urlTtlSeconds: 15 * 60,
    keyTemplate: "chat/{ownerId}/{id}.{ext}",
    bucket: "private",
    visibility: "private",
    cacheControl: PRIVATE_CACHE,
  },
  {
    ownerType: "signed_pdf",
    allowedTypes: ["application/pdf"],
    maxBytes: 50 * MB,
    urlTtlSeconds: 15 * 60,
    keyTemplate: "signed-pdfs/{yyyy}/{mm}/{id}.pdf",
    bucket: "compliance",
    visibility: "private",
    cacheControl: "private, no-store",
    // Signed agreements are records: kept seven years, whatever the user asks.
    retentionDays: 7 * 365,
  },
];
