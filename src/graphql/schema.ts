/**
 * The GraphQL API: the SEQ-IF-001 mutations (`generateUploadUrl`, `confirmMediaUpload`) and the
 * rest of the REST surface, by the same names as its answers (`src/api/`). Byte counts are
 * `SafeInt` (up to 2^53 − 1: GraphQL's `Int` is 32-bit); times are ISO 8601 strings.
 */
export const typeDefs = /* GraphQL */ `
  "A whole number from -(2^53 - 1) to 2^53 - 1: byte counts beyond GraphQL's 32-bit Int."
  scalar SafeInt

  input FileInfo {
    ownerType: String!
    filename: String!
    contentType: String!
    size: SafeInt!
    ownerId: String
    "PUT (default) or POST (a browser form, where the storage offers it)."
    method: String
    """
    The whole file's MD5, base64 (the Content-MD5 header's value): signed into a single PUT (and a one-part multipart
    upload), so the store refuses corrupted bytes. Not with POST; not used by uploads of several parts (see signUploadParts).
    """
    contentMd5: String
  }

  type Header {
    name: String!
    value: String!
  }

  type SignedPart {
    partNumber: Int!
    url: String!
    method: String!
    headers: [Header!]!
    expiresAt: String!
  }

  type StoredPart {
    partNumber: Int!
    etag: String!
    size: SafeInt!
  }

  "The parts a multipart upload already holds: resume by sending only the others."
  type UploadParts {
    partSize: SafeInt!
    partCount: Int!
    parts: [StoredPart!]!
  }

  type MultipartPlan {
    partSize: SafeInt!
    partCount: Int!
    "The first parts' URLs; sign more with signUploadParts."
    parts: [SignedPart!]!
  }

  "How to upload: kind put (one PUT to url with headers), post (a form: url and fields) or multipart (the plan)."
  type UploadTicket {
    uploadId: ID!
    "Where the upload is served from once confirmed."
    objectKey: String!
    kind: String!
    method: String!
    "Null for multipart uploads: each part has its own URL."
    url: String
    headers: [Header!]!
    fields: [Header!]
    expiresAt: String!
    multipart: MultipartPlan
  }

  type Rejection {
    code: String!
    reason: String!
  }

  type Parent {
    type: String!
    id: String!
  }

  type Upload {
    id: ID!
    ownerType: String!
    ownerId: String
    key: String!
    filename: String!
    contentType: String!
    size: SafeInt!
    status: String!
    createdAt: String!
    expiresAt: String!
    confirmedAt: String
    rejection: Rejection
    parent: Parent
    attachedAt: String
    retainUntil: String
    "The upload link it was made through; null when its user made it."
    linkId: ID
    "Images made from this one by the policy's fixed presets (e.g. thumb), as they become ready."
    derivatives: [Derivative!]!
  }

  type Derivative {
    name: String!
    url: String!
    width: Int!
    height: Int!
    contentType: String!
  }

  type ConfirmResult {
    success: Boolean!
    "The public/CDN URL, or a short-lived signed one for private owner types; null while the upload is scanning."
    cdnUrl: String
    "confirmed, or scanning (owner types whose policy scans: served once found clean)."
    status: String!
    upload: Upload!
  }

  type UploadConnection {
    items: [Upload!]!
    "Pass as after for the next page; null on the last."
    nextCursor: String
  }

  type OrgQuota {
    id: String!
    usedBytes: SafeInt!
    reservedBytes: SafeInt!
    limitBytes: SafeInt!
  }

  type Quota {
    usedBytes: SafeInt!
    reservedBytes: SafeInt!
    limitBytes: SafeInt!
    pendingUploads: Int!
    org: OrgQuota
  }

  type Download {
    url: String!
    expiresAt: String!
  }

  "An owner type the caller may upload, and the limits to check before any byte moves."
  type Policy {
    ownerType: String!
    allowedTypes: [String!]!
    maxBytes: SafeInt!
    visibility: String!
    ownerIdRequired: Boolean!
    "From this size uploads go in parts; null: never."
    multipartThresholdBytes: SafeInt
  }

  input PartInput {
    partNumber: Int!
    etag: String!
  }

  type Query {
    upload(id: ID!): Upload
    uploads(ownerType: String, first: Int, after: String): UploadConnection!
    quota: Quota!
    downloadUrl(id: ID!): Download!
    policies: [Policy!]!
    uploadParts(id: ID!): UploadParts!
  }

  type Mutation {
    generateUploadUrl(fileInfo: FileInfo!): UploadTicket!
    "Give exactly one of uploadId and objectKey."
    confirmMediaUpload(uploadId: ID, objectKey: String): ConfirmResult!
    deleteUpload(id: ID!): Boolean!
    attachUploads(uploadIds: [ID!]!, parentType: String!, parentId: String!): [Upload!]!
    "contentMd5s: each part's MD5 (base64), parallel to partNumbers; each is signed into its part's URL."
    signUploadParts(id: ID!, partNumbers: [Int!]!, contentMd5s: [String!]): [SignedPart!]!
    completeUpload(id: ID!, parts: [PartInput!]!): Upload!
  }
`;
