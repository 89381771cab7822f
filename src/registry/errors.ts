// The distribution-spec's errors: a code from its table, the HTTP status it
// goes with, and the JSON body `{"errors":[{code,message,detail}]}`. Every
// refusal of bad input is one of these; anything else that escapes a handler
// is a fault of the server (500).

export type RegistryErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS';

export class RegistryError extends Error {
  constructor(
    readonly status: number,
    readonly code: RegistryErrorCode,
    message: string,
    readonly detail?: unknown,
    /** Headers the answer carries besides the body (Range on a 416, WWW-Authenticate on a 401). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

/** The JSON body of an error answer. */
export function errorBody(errors: readonly RegistryError[]): string {
  return JSON.stringify({
    errors: errors.map((e) => ({ code: e.code, message: e.message, ...(e.detail !== undefined ? { detail: e.detail } : {}) })),
  });
}

/** Several problems of one request (each missing blob of a manifest) answered together. */
export class RegistryErrors extends RegistryError {
  constructor(readonly all: readonly RegistryError[]) {
    super(all[0].status, all[0].code, all[0].message, all[0].detail);
  }
}
