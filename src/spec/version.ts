/** The runtime-spec version ocits implements and reports in state and features. */
export const OCI_VERSION = '1.3.0';

/** The oldest config version ocits accepts without a warning. */
export const OCI_VERSION_MIN = '1.0.0';
