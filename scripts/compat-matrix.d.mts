/** The compatibility matrix as Markdown, from `root`/test/e2e/{litellm,claude-code}/results/*.json (root: the repository). */
export declare function renderMatrix(root?: string): string;
/** `text` with the marked section replaced by `markdown`; null when `text` has no such section. */
export declare function replaceSection(text: string, markdown: string): string | null;
