// Shapes shared by the detectors: a raw hit inside one text, and the finding reported for a request.

/** A detector's match inside one string: a finding kind and where it is. */
export interface Hit {
  kind: string;
  start: number;
  end: number;
}

export interface Finding {
  /** A key of FINDING_KINDS. */
  kind: string;
  /** The request field the text came from: `content`, `command`, `request`, `justification`, `context.a.b`. */
  field: string;
  /** Offsets into that field's text (UTF-16 code units, end exclusive). */
  span: { start: number; end: number };
  /** A short excerpt that never holds a secret or personal identifier in clear. */
  preview: string;
}
