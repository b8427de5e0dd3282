import { Matrix, SVD } from "ml-matrix";
import { CloisterError } from "../../common/errors.ts";
import type { BuiltinFunction } from "./builtin-function.ts";
import { requireBoolean, requireUnsignedInteger } from "./arguments.ts";
import { parseNumericRows } from "./numeric-rows.ts";
import { formatDebugF64 } from "./rust-format.ts";
import { readTextInput, writeOutput } from "./text-input.ts";

/**
 * Fits PCA as rusty-machine does (optionally centre the columns, take the right singular
 * vectors of the data) and projects the same data onto the first `components` of them.
 * NOTE: singular vectors are unique only up to sign. ml-matrix's SVD gives the same signs as
 * rusty-machine on the Teaclave test vector, but other data may come out with flipped columns.
 */
export function projectPrincipalComponents(
  rows: readonly (readonly number[])[],
  components: number,
  center: boolean,
): Matrix {
  const data = new Matrix(rows.map((row) => [...row]));
  if (center) data.subRowVector(data.mean("column"));
  const svd = new SVD(data, {
    computeLeftSingularVectors: false,
    computeRightSingularVectors: true,
    autoTranspose: true,
  });
  const basis = svd.rightSingularVectors.subMatrix(0, data.columns - 1, 0, components - 1);
  return data.mmul(basis);
}

/**
 * `builtin_principal_components_analysis` (underscores, as in Teaclave): reads rows of
 * `feature_size` features plus an ignored label from `input_data` and writes their projection
 * onto the first `n` principal components to `output_data`, one comma-joined row per line in
 * Rust's `{:?}` f64 format.
 */
export const principalComponentsAnalysis: BuiltinFunction = {
  name: "builtin_principal_components_analysis",
  async run(args, runtime) {
    const components = requireUnsignedInteger(args, "n");
    const center = requireBoolean(args, "center");
    const featureSize = requireUnsignedInteger(args, "feature_size");
    if (components < 1 || components > featureSize) {
      throw new CloisterError(
        "INVALID_ARGUMENT",
        `argument "n" must be between 1 and feature_size (${featureSize}), got ${components}`,
      );
    }
    const rows = parseNumericRows(await readTextInput(runtime, "input_data"), {
      slot: "input_data",
      columns: featureSize + 1,
      columnsDescription: `${featureSize} features and a label`,
    });
    const projection = projectPrincipalComponents(
      rows.map((row) => row.slice(0, featureSize)),
      components,
      center,
    );
    const lines = projection.to2DArray().map((row) => `${row.map(formatDebugF64).join(",")}\n`);
    await writeOutput(runtime, "output_data", lines.join(""));
    return `transform ${projection.rows} rows * ${projection.columns} cols lines of data.`;
  },
};
