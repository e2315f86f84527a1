export declare const START: string;
export declare const END: string;
/** The compatibility matrix as Markdown, from test/e2e/{litellm,claude-code}/results/*.json. */
export declare function renderMatrix(): string;
/** `text` with the marked section replaced by `markdown`; null when `text` has no such section. */
export declare function replaceSection(text: string, markdown: string): string | null;
