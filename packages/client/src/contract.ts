/**
 * The server's contract, as types only (`src/api/` is its one home): nothing of it is bundled
 * into the client, and the client can never drift from what the server answers.
 */
export type {
  CompleteRequest,
  ConfirmAnswer,
  DownloadAnswer,
  ErrorBody,
  PolicyList,
  PolicyView,
  PresignAnswer,
  PresignRequest,
  QuotaAnswer,
  SignedPart,
  SignPartsAnswer,
  SignPartsRequest,
  Upload,
  UploadPage,
  UploadPartsAnswer,
} from "../../../src/api/index.js";
