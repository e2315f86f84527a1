export declare const VERSIONS: string[];
export declare const CI_VERSIONS: string[];
