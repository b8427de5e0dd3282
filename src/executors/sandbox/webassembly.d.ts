// The WebAssembly JavaScript API as Node.js 20 provides it. TypeScript declares it only in
// its DOM library, which this project does not load, so the parts the executors use are
// declared here (after lib.dom.d.ts of TypeScript 5.9).
// NOTE: these declarations clash with lib.dom.d.ts; delete this file if tsconfig.json ever
// adds the DOM library.
declare namespace WebAssembly {
  type ImportValue = Function | Global | Memory | Table;
  type ModuleImports = Record<string, ImportValue>;
  type Imports = Record<string, ModuleImports>;
  type ExportValue = Function | Global | Memory | Table;
  type Exports = Record<string, ExportValue>;
  type ImportExportKind = "function" | "global" | "memory" | "table" | "tag";

  interface ModuleExportDescriptor {
    kind: ImportExportKind;
    name: string;
  }

  interface ModuleImportDescriptor {
    kind: ImportExportKind;
    module: string;
    name: string;
  }

  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
    shared?: boolean;
  }

  class Module {
    constructor(bytes: BufferSource);
    static exports(moduleObject: Module): ModuleExportDescriptor[];
    static imports(moduleObject: Module): ModuleImportDescriptor[];
    static customSections(moduleObject: Module, sectionName: string): ArrayBuffer[];
  }

  class Instance {
    constructor(module: Module, importObject?: Imports);
    readonly exports: Exports;
  }

  class Memory {
    constructor(descriptor: MemoryDescriptor);
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }

  class Global {
    value: unknown;
  }

  class Table {
    readonly length: number;
  }

  class CompileError extends Error {}
  class LinkError extends Error {}
  class RuntimeError extends Error {}

  interface WebAssemblyInstantiatedSource {
    instance: Instance;
    module: Module;
  }

  function compile(bytes: BufferSource): Promise<Module>;
  function instantiate(
    bytes: BufferSource,
    importObject?: Imports,
  ): Promise<WebAssemblyInstantiatedSource>;
  function instantiate(moduleObject: Module, importObject?: Imports): Promise<Instance>;
  function validate(bytes: BufferSource): boolean;
}

type BufferSource = ArrayBufferView | ArrayBuffer;
