/**
 * Float formatting that reproduces Rust's output, because Teaclave's clients compare the
 * text that its built-ins write: `{:.N}`, `{:?}` for f64, and serde_json's shortest form
 * (the `ryu` crate) for f32 and f64.
 */

/** Shortest round-trip decimal digits of a finite, non-zero value and its decimal exponent. */
interface ShortestDecimal {
  readonly negative: boolean;
  /** Significant digits without leading or trailing zeros, for example "165". */
  readonly digits: string;
  /** Power of ten of the first digit: the value is 0.d1d2d3… × 10^(exponent + 1). */
  readonly exponent: number;
}

function splitExponential(text: string): ShortestDecimal {
  const negative = text.startsWith("-");
  const [mantissa = "", exponent = "0"] = (negative ? text.slice(1) : text).split("e");
  return { negative, digits: mantissa.replace(".", ""), exponent: Number(exponent) };
}

/** Shortest digits that read back as the same f64. */
function shortestF64(value: number): ShortestDecimal {
  // toExponential() without an argument gives as many digits as needed to be unique.
  return splitExponential(value.toExponential());
}

/** Shortest digits that read back as the same f32, as Rust and ryu print an f32. */
function shortestF32(value: number): ShortestDecimal {
  for (let precision = 1; precision < 9; precision++) {
    const text = value.toExponential(precision - 1);
    if (Math.fround(Number(text)) === value) return splitExponential(text);
  }
  return splitExponential(value.toExponential(8));
}

/**
 * Lays out shortest digits the way ryu's `format64`/`format32` do: plain decimal while the
 * decimal point falls within `maxIntegerDigits` digits and no more than 5 zeros follow it,
 * otherwise `d.ddde±x` with no `+` sign. Integers keep a trailing `.0`.
 */
function layoutRyu(decimal: ShortestDecimal, maxIntegerDigits: number): string {
  const { digits, exponent } = decimal;
  const sign = decimal.negative ? "-" : "";
  const pointPosition = exponent + 1;
  if (digits.length <= pointPosition && pointPosition <= maxIntegerDigits) {
    return `${sign}${digits}${"0".repeat(pointPosition - digits.length)}.0`;
  }
  if (pointPosition > 0 && pointPosition <= maxIntegerDigits) {
    return `${sign}${digits.slice(0, pointPosition)}.${digits.slice(pointPosition)}`;
  }
  if (pointPosition > -5 && pointPosition <= 0) {
    return `${sign}0.${"0".repeat(-pointPosition)}${digits}`;
  }
  const mantissa = digits.length === 1 ? digits : `${digits[0]}.${digits.slice(1)}`;
  return `${sign}${mantissa}e${exponent}`;
}

function formatSpecial(value: number): string | undefined {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "inf";
  if (value === -Infinity) return "-inf";
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  return undefined;
}

/** Formats an f64 as serde_json writes it (ryu): `0.3`, `2.0`, `1e-7`, `1.5e16`. */
export function formatJsonF64(value: number): string {
  if (!Number.isFinite(value)) return "null";
  return formatSpecial(value) ?? layoutRyu(shortestF64(value), 16);
}

/** Formats an f32 (a `Math.fround` value) as serde_json writes it (ryu): `1.6500001`. */
export function formatJsonF32(value: number): string {
  if (!Number.isFinite(value)) return "null";
  return formatSpecial(value) ?? layoutRyu(shortestF32(value), 13);
}

/**
 * Formats an f64 as Rust's `{:?}` does: the shortest round-trip digits, a trailing `.0` for
 * integers, and exponent form (`1e-5`, `1.5e16`) below 1e-4 and from 1e16 on.
 * NOTE: Rust releases before 1.58 printed `{:?}` in plain decimal at every magnitude.
 */
export function formatDebugF64(value: number): string {
  const special = formatSpecial(value);
  if (special !== undefined) return special;
  const decimal = shortestF64(value);
  const magnitude = Math.abs(value);
  if (magnitude < 1e-4 || magnitude >= 1e16) {
    const sign = decimal.negative ? "-" : "";
    const { digits } = decimal;
    const mantissa = digits.length === 1 ? digits : `${digits[0]}.${digits.slice(1)}`;
    return `${sign}${mantissa}e${decimal.exponent}`;
  }
  const pointPosition = decimal.exponent + 1;
  const sign = decimal.negative ? "-" : "";
  if (pointPosition <= 0) return `${sign}0.${"0".repeat(-pointPosition)}${decimal.digits}`;
  if (decimal.digits.length <= pointPosition) {
    return `${sign}${decimal.digits}${"0".repeat(pointPosition - decimal.digits.length)}.0`;
  }
  return `${sign}${decimal.digits.slice(0, pointPosition)}.${decimal.digits.slice(pointPosition)}`;
}

/**
 * Formats a float with `fractionDigits` decimals as Rust's `{:.N}` does: the exact binary
 * value is rounded, and an exact tie goes to the even digit.
 * NOTE: Rust releases before 1.67 rounded exact ties up (away from zero), so those outputs may
 * differ in the last digit for values such as 0.125 with two decimals.
 */
export function formatFixed(value: number, fractionDigits: number): string {
  const special = formatSpecial(value);
  if (special !== undefined && value !== 0) return special;
  const negative = value < 0 || Object.is(value, -0);
  const [numerator, denominator] = exactFraction(Math.abs(value));
  const scaled = numerator * 10n ** BigInt(fractionDigits);
  let quotient = scaled / denominator;
  const twiceRemainder = (scaled % denominator) * 2n;
  if (twiceRemainder > denominator || (twiceRemainder === denominator && quotient % 2n === 1n)) {
    quotient += 1n;
  }
  const text = quotient.toString().padStart(fractionDigits + 1, "0");
  const integerPart = text.slice(0, text.length - fractionDigits);
  const fractionPart = text.slice(text.length - fractionDigits);
  const sign = negative ? "-" : "";
  return fractionDigits === 0 ? `${sign}${integerPart}` : `${sign}${integerPart}.${fractionPart}`;
}

/** Returns a finite non-negative double as an exact fraction of two BigInts. */
function exactFraction(value: number): [bigint, bigint] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  const exponentBits = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = exponentBits === 0 ? fraction : fraction | (1n << 52n);
  const exponent = (exponentBits === 0 ? 1 : exponentBits) - 1075;
  return exponent >= 0 ? [mantissa << BigInt(exponent), 1n] : [mantissa, 1n << BigInt(-exponent)];
}
