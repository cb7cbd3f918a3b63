// src/shared runs in the webview (a browser) and in Node 22, so its tsconfig gives it neither the
// DOM's types nor Node's. What both runtimes provide is declared here, as the shared code uses it.
declare function structuredClone<T>(value: T): T;
