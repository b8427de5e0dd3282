import type { BuiltinFunction } from "./builtin-function.ts";
import { echo } from "./echo.ts";
import { faceDetection } from "./face-detection.ts";
import { gbdtPredict } from "./gbdt-predict.ts";
import { gbdtTrain } from "./gbdt-train.ts";
import { logisticRegressionPredict } from "./logistic-regression-predict.ts";
import { logisticRegressionTrain } from "./logistic-regression-train.ts";
import { onlineDecrypt } from "./online-decrypt.ts";
import { orderedSetIntersect } from "./ordered-set-intersect.ts";
import { orderedSetJoin } from "./ordered-set-join.ts";
import { passwordCheck } from "./password-check.ts";
import { principalComponentsAnalysis } from "./principal-components-analysis.ts";
import { privateJoinAndCompute } from "./private-join-and-compute.ts";
import { rsaSign } from "./rsa-sign.ts";

/** Every built-in function, by its exact Teaclave name. */
const builtins: readonly BuiltinFunction[] = [
  echo,
  faceDetection,
  gbdtPredict,
  gbdtTrain,
  logisticRegressionPredict,
  logisticRegressionTrain,
  onlineDecrypt,
  orderedSetIntersect,
  orderedSetJoin,
  passwordCheck,
  principalComponentsAnalysis,
  privateJoinAndCompute,
  rsaSign,
];

export const builtinFunctions: ReadonlyMap<string, BuiltinFunction> = new Map(
  builtins.map((builtin) => [builtin.name, builtin]),
);
