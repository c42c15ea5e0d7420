// Checksums and structural checks that tell a real identifier from a look-alike. Each validator takes
// the canonical form (digits or upper-case letters, separators removed) and answers true or false; none
// of them searches text or knows about formatting.
import "server-only";

const d = (s: string, i: number): number => s.charCodeAt(i) - 48;

export function isDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return s.length > 0;
}

function allSameChar(s: string): boolean {
  for (let i = 1; i < s.length; i++) if (s[i] !== s[0]) return false;
  return true;
}

export function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let v = d(digits, i);
    if (double) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
    double = !double;
  }
  return sum % 10 === 0;
}

const VERHOEFF_D = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
  [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
  [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
  [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
  [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
  [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
  [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
  [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
  [9, 4, 5, 3, 1, 2, 7, 6, 8, 0],
  [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
  [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
  [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

export function verhoeff(digits: string): boolean {
  let c = 0;
  for (let i = 0; i < digits.length; i++) {
    const digit = d(digits, digits.length - 1 - i);
    c = VERHOEFF_D[c]![VERHOEFF_P[i % 8]![digit]!]!;
  }
  return c === 0;
}

/** Remainder of a long decimal (or IBAN-converted) string modulo `m`, without big integers. */
export function modString(s: string, m: number): number {
  let r = 0;
  for (let i = 0; i < s.length; i++) r = (r * 10 + d(s, i)) % m;
  return r;
}

/** Weighted digit sum: `weights[i] * digit[i]`. */
function weighted(s: string, weights: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum += weights[i]! * d(s, i);
  return sum;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** A real calendar date; `year` may be two digits, in which case Feb 29 is allowed on multiples of 4. */
export function isValidDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= daysInMonth(year < 100 ? 2000 + year : year, month);
}

// --- payment cards ---------------------------------------------------------------------------------

const MAESTRO_PREFIXES = new Set(["5018", "5020", "5038", "5893", "6304", "6759", "6761", "6762", "6763"]);

/** Issuer prefix (IIN) and length of the major networks. */
export function isKnownCardIssuer(digits: string): boolean {
  const n = digits.length;
  const p2 = Number(digits.slice(0, 2));
  const p3 = Number(digits.slice(0, 3));
  const p4 = Number(digits.slice(0, 4));
  const p6 = Number(digits.slice(0, 6));
  if (digits[0] === "4") return n === 13 || n === 16 || n === 19; // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16; // Mastercard
  if (p2 === 34 || p2 === 37) return n === 15; // American Express
  if (p4 >= 2200 && p4 <= 2204) return n >= 16 && n <= 19; // Mir
  if (p4 === 6011 || (p3 >= 644 && p3 <= 649) || p2 === 65 || (p6 >= 622126 && p6 <= 622925)) {
    return n >= 16 && n <= 19; // Discover
  }
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19; // JCB
  if ((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39) return n >= 14 && n <= 19; // Diners
  if (p2 === 62) return n >= 16 && n <= 19; // UnionPay
  if (MAESTRO_PREFIXES.has(digits.slice(0, 4))) return n >= 12 && n <= 19; // Maestro
  return false;
}

export function isCardNumber(digits: string): boolean {
  return digits.length >= 13 && digits.length <= 19 && isKnownCardIssuer(digits) && luhn(digits);
}

// --- IBAN ------------------------------------------------------------------------------------------

const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24,
  AE: 23,
  AL: 28,
  AT: 20,
  AZ: 28,
  BA: 20,
  BE: 16,
  BG: 22,
  BH: 22,
  BI: 27,
  BR: 29,
  BY: 28,
  CH: 21,
  CR: 22,
  CY: 28,
  CZ: 24,
  DE: 22,
  DJ: 27,
  DK: 18,
  DO: 28,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FK: 18,
  FO: 18,
  FR: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GR: 27,
  GT: 28,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IQ: 23,
  IS: 26,
  IT: 27,
  JO: 30,
  KW: 30,
  KZ: 20,
  LB: 28,
  LC: 32,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  LY: 25,
  MC: 27,
  MD: 24,
  ME: 22,
  MK: 19,
  MN: 20,
  MR: 27,
  MT: 31,
  MU: 30,
  NI: 28,
  NL: 18,
  NO: 15,
  OM: 23,
  PK: 24,
  PL: 28,
  PS: 29,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  RU: 33,
  SA: 24,
  SC: 31,
  SD: 18,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  SO: 23,
  ST: 25,
  SV: 28,
  TL: 23,
  TN: 24,
  TR: 26,
  UA: 29,
  VA: 22,
  VG: 24,
  XK: 20,
  YE: 30,
};

/** ISO 13616: per-country length, then mod 97 of the rearranged, letter-expanded string equals 1. */
export function isIban(iban: string): boolean {
  if (IBAN_LENGTHS[iban.slice(0, 2)] !== iban.length) return false;
  const moved = iban.slice(4) + iban.slice(0, 4);
  let r = 0;
  for (let i = 0; i < moved.length; i++) {
    const c = moved.charCodeAt(i);
    if (c >= 48 && c <= 57) r = (r * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) r = (r * 100 + (c - 55)) % 97;
    else return false;
  }
  return r === 1;
}

// --- United States ---------------------------------------------------------------------------------

/** SSA rules: area not 000, 666 or 9xx; group not 00; serial not 0000. */
export function isUsSsn(digits: string): boolean {
  if (digits.length !== 9) return false;
  const area = digits.slice(0, 3);
  return (
    area !== "000" &&
    area !== "666" &&
    digits[0] !== "9" &&
    digits.slice(3, 5) !== "00" &&
    digits.slice(5) !== "0000"
  );
}

/** ITIN: 9xx-[50-65|70-88|90-92|94-99]-xxxx. */
export function isUsItin(digits: string): boolean {
  if (digits.length !== 9 || digits[0] !== "9") return false;
  const g = Number(digits.slice(3, 5));
  return (g >= 50 && g <= 65) || (g >= 70 && g <= 88) || (g >= 90 && g <= 92) || (g >= 94 && g <= 99);
}

const EIN_PREFIXES = new Set(
  "01 02 03 04 05 06 10 11 12 13 14 15 16 20 21 22 23 24 25 26 27 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64 65 66 67 68 71 72 73 74 75 76 77 80 81 82 83 84 85 86 87 88 90 91 92 93 94 95 98 99".split(
    " ",
  ),
);

/** EIN: nine digits whose two-digit prefix the IRS assigns. No checksum exists. */
export function isUsEin(digits: string): boolean {
  return digits.length === 9 && EIN_PREFIXES.has(digits.slice(0, 2));
}

/** ABA routing number: 3-7-1 weighted sum modulo 10, valid Federal Reserve prefix. */
export function isAbaRouting(digits: string): boolean {
  if (digits.length !== 9) return false;
  const p = Number(digits.slice(0, 2));
  if (!((p >= 0 && p <= 12) || (p >= 21 && p <= 32) || (p >= 61 && p <= 72) || p === 80)) return false;
  return weighted(digits, [3, 7, 1, 3, 7, 1, 3, 7, 1]) % 10 === 0 && !allSameChar(digits);
}

// --- United Kingdom --------------------------------------------------------------------------------

const NINO_BAD_PREFIX = new Set(["BG", "GB", "KN", "NK", "NT", "TN", "ZZ"]);

/** National Insurance number: two prefix letters (with HMRC's exclusions), six digits, suffix A-D. */
export function isUkNino(s: string): boolean {
  if (!/^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]$/.test(s)) return false;
  return !NINO_BAD_PREFIX.has(s.slice(0, 2));
}

/** NHS number: modulus 11 with weights 10..2. */
export function isUkNhs(digits: string): boolean {
  if (digits.length !== 10 || allSameChar(digits)) return false;
  const r = 11 - (weighted(digits, [10, 9, 8, 7, 6, 5, 4, 3, 2]) % 11);
  const check = r === 11 ? 0 : r;
  return check !== 10 && check === d(digits, 9);
}

// --- Canada, Australia, New Zealand -----------------------------------------------------------------

/** Social Insurance Number: Luhn; 0 and 8 are not issued as first digits. */
export function isCaSin(digits: string): boolean {
  return (
    digits.length === 9 && digits[0] !== "0" && digits[0] !== "8" && luhn(digits) && !allSameChar(digits)
  );
}

/** Tax File Number: weights 1,4,3,7,5,8,6,9,10 (9 digits) or 10,7,8,4,6,3,5,1 (8 digits), modulo 11. */
export function isAuTfn(digits: string): boolean {
  if (allSameChar(digits)) return false;
  if (digits.length === 9) return weighted(digits, [1, 4, 3, 7, 5, 8, 6, 9, 10]) % 11 === 0;
  if (digits.length === 8) return weighted(digits, [10, 7, 8, 4, 6, 3, 5, 1]) % 11 === 0;
  return false;
}

/** Medicare card: first digit 2-6, weights 1,3,7,9 on eight digits modulo 10 equals the ninth. */
export function isAuMedicare(digits: string): boolean {
  if (digits.length !== 10 && digits.length !== 11) return false;
  if (digits[0]! < "2" || digits[0]! > "6") return false;
  return weighted(digits, [1, 3, 7, 9, 1, 3, 7, 9]) % 10 === d(digits, 8);
}

// --- Latin America ---------------------------------------------------------------------------------

/** CPF: two modulus-11 check digits; repeated digits are not issued. */
export function isBrCpf(digits: string): boolean {
  if (digits.length !== 11 || allSameChar(digits)) return false;
  for (const n of [9, 10]) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += d(digits, i) * (n + 1 - i);
    const check = ((sum * 10) % 11) % 10;
    if (check !== d(digits, n)) return false;
  }
  return true;
}

/** CNPJ: two modulus-11 check digits with weights 5..2,9..2 and 6..2,9..2. */
export function isBrCnpj(digits: string): boolean {
  if (digits.length !== 14 || allSameChar(digits)) return false;
  const w1 = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
  const w2 = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
  for (const w of [w1, w2]) {
    const r = weighted(digits, w) % 11;
    if ((r < 2 ? 0 : 11 - r) !== d(digits, w.length)) return false;
  }
  return true;
}

const CURP_CHARS = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ";

/** CURP: structure (name letters, birth date, sex, state) and the final modulus-10 check digit. */
export function isMxCurp(s: string): boolean {
  if (!/^[A-Z][AEIOUX][A-Z]{2}\d{6}[HMX][A-Z]{2}[B-DF-HJ-NP-TV-Z]{3}[0-9A-Z]\d$/.test(s)) return false;
  if (!isValidDate(Number(s.slice(4, 6)), Number(s.slice(6, 8)), Number(s.slice(8, 10)))) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += CURP_CHARS.indexOf(s[i]!) * (18 - i);
  return (10 - (sum % 10)) % 10 === d(s, 17);
}

/** Chilean RUT: modulus 11 over the body, weights 2..7 from the right; 10 is written K. */
export function isClRut(body: string, check: string): boolean {
  if (body.length < 7 || body.length > 8 || !isDigits(body)) return false;
  let sum = 0;
  let w = 2;
  for (let i = body.length - 1; i >= 0; i--) {
    sum += d(body, i) * w;
    w = w === 7 ? 2 : w + 1;
  }
  const r = 11 - (sum % 11);
  const expected = r === 11 ? "0" : r === 10 ? "K" : String(r);
  return expected === check.toUpperCase();
}

const CUIT_PREFIXES = new Set(["20", "23", "24", "27", "30", "33", "34"]);

/** Argentine CUIT/CUIL: known type prefix and modulus 11 with weights 5,4,3,2,7,6,5,4,3,2. */
export function isArCuit(digits: string): boolean {
  if (digits.length !== 11 || !CUIT_PREFIXES.has(digits.slice(0, 2))) return false;
  const r = 11 - (weighted(digits, [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]) % 11);
  const check = r === 11 ? 0 : r;
  return check !== 10 && check === d(digits, 10);
}

// --- Europe ----------------------------------------------------------------------------------------

const DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE";

/** Spanish DNI: eight digits and the letter of their value modulo 23. */
export function isEsDni(s: string): boolean {
  if (!/^\d{8}[A-Z]$/.test(s)) return false;
  return DNI_LETTERS[Number(s.slice(0, 8)) % 23] === s[8];
}

/** Spanish NIE: X, Y or Z (read as 0, 1, 2), seven digits, and the DNI letter of the result. */
export function isEsNie(s: string): boolean {
  if (!/^[XYZ]\d{7}[A-Z]$/.test(s)) return false;
  const n = Number(String("XYZ".indexOf(s[0]!)) + s.slice(1, 8));
  return DNI_LETTERS[n % 23] === s[8];
}

const CF_ODD: Readonly<Record<string, number>> = {
  "0": 1,
  "1": 0,
  "2": 5,
  "3": 7,
  "4": 9,
  "5": 13,
  "6": 15,
  "7": 17,
  "8": 19,
  "9": 21,
  A: 1,
  B: 0,
  C: 5,
  D: 7,
  E: 9,
  F: 13,
  G: 15,
  H: 17,
  I: 19,
  J: 21,
  K: 2,
  L: 4,
  M: 18,
  N: 20,
  O: 11,
  P: 3,
  Q: 6,
  R: 8,
  S: 12,
  T: 14,
  U: 16,
  V: 10,
  W: 22,
  X: 25,
  Y: 24,
  Z: 23,
};

/** Italian codice fiscale: layout (with omocodia digit substitutes) and the odd/even check letter. */
export function isItCodiceFiscale(s: string): boolean {
  if (!/^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$/.test(s)) {
    return false;
  }
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    const c = s[i]!;
    if (i % 2 === 0) sum += CF_ODD[c]!;
    else sum += c >= "0" && c <= "9" ? Number(c) : c.charCodeAt(0) - 65;
  }
  return String.fromCharCode(65 + (sum % 26)) === s[15];
}

/** German Steuer-ID: no leading zero, one digit repeated two or three times, ISO 7064 MOD 11,10. */
export function isDeSteuerId(digits: string): boolean {
  if (digits.length !== 11 || digits[0] === "0") return false;
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < 10; i++) counts[d(digits, i)]!++;
  let repeated = 0;
  for (const c of counts) {
    if (c === 2 || c === 3) repeated++;
    else if (c > 3) return false;
  }
  if (repeated !== 1) return false;
  let product = 10;
  for (let i = 0; i < 10; i++) {
    let sum = (d(digits, i) + product) % 10;
    if (sum === 0) sum = 10;
    product = (sum * 2) % 11;
  }
  const check = 11 - product === 10 ? 0 : 11 - product;
  return check === d(digits, 10);
}

/** French NIR (INSEE): sex digit, month, and a key equal to 97 minus the first 13 digits modulo 97. */
export function isFrNir(s: string): boolean {
  if (s.length !== 15) return false;
  // Corsica departments 2A and 2B are read as 19 and 18 for the key.
  const body = s.slice(0, 13).replace("2A", "19").replace("2B", "18");
  if (!isDigits(body) || !isDigits(s.slice(13))) return false;
  if (!"12378".includes(s[0]!)) return false;
  const month = Number(s.slice(3, 5));
  if (!((month >= 1 && month <= 12) || month >= 20)) return false;
  return 97 - modString(body, 97) === Number(s.slice(13));
}

/** Dutch BSN: the "11-proof" with weights 9..2 and -1. */
export function isNlBsn(digits: string): boolean {
  if (digits.length !== 9 || allSameChar(digits)) return false;
  const sum = weighted(digits, [9, 8, 7, 6, 5, 4, 3, 2]) - d(digits, 8);
  return sum % 11 === 0 && sum > 0;
}

/** Polish PESEL: birth date (century in the month) and weights 1,3,7,9 modulo 10. */
export function isPlPesel(digits: string): boolean {
  if (digits.length !== 11) return false;
  let month = Number(digits.slice(2, 4));
  const yy = Number(digits.slice(0, 2));
  let century = 1900;
  if (month > 80) [century, month] = [1800, month - 80];
  else if (month > 60) [century, month] = [2200, month - 60];
  else if (month > 40) [century, month] = [2100, month - 40];
  else if (month > 20) [century, month] = [2000, month - 20];
  if (!isValidDate(century + yy, month, Number(digits.slice(4, 6)))) return false;
  const sum = weighted(digits, [1, 3, 7, 9, 1, 3, 7, 9, 1, 3]);
  return (10 - (sum % 10)) % 10 === d(digits, 10);
}

/** Swedish personnummer (10 digits YYMMDDNNNC): birth date (day + 60 for samordningsnummer) and Luhn. */
export function isSePersonnummer(digits: string): boolean {
  if (digits.length !== 10) return false;
  let day = Number(digits.slice(4, 6));
  if (day > 60) day -= 60;
  return isValidDate(Number(digits.slice(0, 2)), Number(digits.slice(2, 4)), day) && luhn(digits);
}

const HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY";

/** Finnish HETU DDMMYY[sign]NNNC: birth date, century sign, check character of DDMMYYNNN modulo 31. */
export function isFiHetu(s: string): boolean {
  const m = /^(\d{2})(\d{2})(\d{2})([-+A-FU-Y])(\d{3})([0-9A-Y])$/.exec(s);
  if (!m) return false;
  if (!isValidDate(Number(m[3]), Number(m[2]), Number(m[1]))) return false;
  if (Number(m[5]) < 2) return false;
  return HETU_CHECK[modString(m[1]! + m[2]! + m[3]! + m[5]!, 31)] === m[6];
}

/** Belgian national number YYMMDDSSSCC: 97 minus the first nine digits (prefixed by 2 after 1999) mod 97. */
export function isBeNationalNumber(digits: string): boolean {
  if (digits.length !== 11) return false;
  const month = Number(digits.slice(2, 4));
  const day = Number(digits.slice(4, 6));
  if (month > 12 || day > 31) return false; // 00 is used for unknown parts of a birth date
  const check = Number(digits.slice(9));
  const body = digits.slice(0, 9);
  return 97 - modString(body, 97) === check || 97 - modString(`2${body}`, 97) === check;
}

/** Danish CPR DDMMYY-SSSS: a valid birth date; the modulus-11 rule was dropped in 2007. */
export function isDkCpr(digits: string): boolean {
  if (digits.length !== 10) return false;
  return isValidDate(Number(digits.slice(4, 6)), Number(digits.slice(2, 4)), Number(digits.slice(0, 2)));
}

/** Norwegian fødselsnummer DDMMYYIIIKK: birth date (D- and H-number offsets) and two modulus-11 digits. */
export function isNoFodselsnummer(digits: string): boolean {
  if (digits.length !== 11) return false;
  let day = Number(digits.slice(0, 2));
  let month = Number(digits.slice(2, 4));
  if (day > 40) day -= 40;
  if (month > 40) month -= 40;
  if (!isValidDate(Number(digits.slice(4, 6)), month, day)) return false;
  const k = (w: number[]): number => {
    const r = 11 - (weighted(digits, w) % 11);
    return r === 11 ? 0 : r;
  };
  const k1 = k([3, 7, 6, 1, 8, 9, 4, 5, 2]);
  const k2 = k([5, 4, 3, 2, 7, 6, 5, 4, 3, 2]);
  return k1 !== 10 && k2 !== 10 && k1 === d(digits, 9) && k2 === d(digits, 10);
}

/** Swiss AHV/AVS number: prefix 756 and the EAN-13 check digit. */
export function isChAhv(digits: string): boolean {
  if (digits.length !== 13 || !digits.startsWith("756")) return false;
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += d(digits, i) * (i % 2 === 0 ? 1 : 3);
  return (10 - (sum % 10)) % 10 === d(digits, 12);
}

/** Romanian CNP: sex/century digit, birth date, weights 2,7,9,1,4,6,3,5,8,2,7,9 modulo 11. */
export function isRoCnp(digits: string): boolean {
  if (digits.length !== 13 || digits[0] === "0") return false;
  if (!isValidDate(Number(digits.slice(1, 3)), Number(digits.slice(3, 5)), Number(digits.slice(5, 7)))) {
    return false;
  }
  const r = weighted(digits, [2, 7, 9, 1, 4, 6, 3, 5, 8, 2, 7, 9]) % 11;
  return (r === 10 ? 1 : r) === d(digits, 12);
}

/** Turkish TC Kimlik No: no leading zero and two check digits. */
export function isTrTckn(digits: string): boolean {
  if (digits.length !== 11 || digits[0] === "0") return false;
  const odd = d(digits, 0) + d(digits, 2) + d(digits, 4) + d(digits, 6) + d(digits, 8);
  const even = d(digits, 1) + d(digits, 3) + d(digits, 5) + d(digits, 7);
  const d10 = (((odd * 7 - even) % 10) + 10) % 10;
  if (d10 !== d(digits, 9)) return false;
  let sum = 0;
  for (let i = 0; i < 10; i++) sum += d(digits, i);
  return sum % 10 === d(digits, 10);
}

/** Portuguese NIF: a known leading digit and modulus 11 with weights 9..2. */
export function isPtNif(digits: string): boolean {
  if (digits.length !== 9 || !"1235689".includes(digits[0]!)) return false;
  const r = 11 - (weighted(digits, [9, 8, 7, 6, 5, 4, 3, 2]) % 11);
  return (r >= 10 ? 0 : r) === d(digits, 8);
}

/** Irish PPS number: seven digits, check letter (weights 8..2, second letter times 9) modulo 23. */
export function isIePps(s: string): boolean {
  const m = /^(\d{7})([A-W])([A-IW]?)$/.exec(s);
  if (!m) return false;
  let sum = 0;
  for (let i = 0; i < 7; i++) sum += d(m[1]!, i) * (8 - i);
  if (m[3]) sum += (m[3] === "W" ? 0 : m[3].charCodeAt(0) - 64) * 9;
  const r = sum % 23;
  return (r === 0 ? "W" : String.fromCharCode(64 + r)) === m[2];
}

// --- Asia, Africa, Middle East ---------------------------------------------------------------------

/** Aadhaar: twelve digits, not starting with 0 or 1, Verhoeff check digit. */
export function isInAadhaar(digits: string): boolean {
  return digits.length === 12 && digits[0]! >= "2" && verhoeff(digits) && !allSameChar(digits.slice(1));
}

/** PAN: five letters (the fourth says the holder type), four digits, one letter. No checksum exists. */
export function isInPan(s: string): boolean {
  return /^[A-Z]{3}[ABCFGHLJPT][A-Z]\d{4}[A-Z]$/.test(s) && s.slice(5, 9) !== "0000";
}

const CN_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/** Chinese resident identity number: region, birth date, ISO 7064 MOD 11-2 check (X for 10). */
export function isCnResidentId(s: string): boolean {
  if (!/^[1-8]\d{16}[\dX]$/.test(s)) return false;
  const year = Number(s.slice(6, 10));
  if (year < 1900 || year > 2099) return false;
  if (!isValidDate(year, Number(s.slice(10, 12)), Number(s.slice(12, 14)))) return false;
  const r = weighted(s, CN_WEIGHTS) % 11;
  return "10X98765432"[r] === s[17];
}

/** South African ID: birth date, citizenship digit 0-2, Luhn. */
export function isZaId(digits: string): boolean {
  if (digits.length !== 13 || d(digits, 10) > 2) return false;
  if (!isValidDate(Number(digits.slice(0, 2)), Number(digits.slice(2, 4)), Number(digits.slice(4, 6)))) {
    return false;
  }
  return luhn(digits);
}

/** Singapore NRIC/FIN (S, T, F, G series): weights 2,7,6,5,4,3,2 and the series' check letter table. */
export function isSgNric(s: string): boolean {
  const m = /^([STFG])(\d{7})([A-Z])$/.exec(s);
  if (!m) return false;
  let sum = 0;
  const w = [2, 7, 6, 5, 4, 3, 2];
  for (let i = 0; i < 7; i++) sum += d(m[2]!, i) * w[i]!;
  if (m[1] === "T" || m[1] === "G") sum += 4;
  const table = m[1] === "S" || m[1] === "T" ? "JZIHGFEDCBA" : "XWUTRQPNMLK";
  return table[sum % 11] === m[3];
}

/** Korean resident registration number YYMMDD-GNNNNNC: birth date, sex/century digit, check digit. */
export function isKrRrn(digits: string): boolean {
  if (digits.length !== 13) return false;
  if (!isValidDate(Number(digits.slice(0, 2)), Number(digits.slice(2, 4)), Number(digits.slice(4, 6)))) {
    return false;
  }
  const w = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5];
  return (11 - (weighted(digits, w) % 11)) % 10 === d(digits, 12);
}

/** Israeli Teudat Zehut: nine digits (left-padded), Luhn-style alternating weights. */
export function isIlId(digits: string): boolean {
  return digits.length === 9 && luhn(digits) && !allSameChar(digits) && Number(digits) > 0;
}

/** Japanese My Number: twelve digits and the check digit defined by the Cabinet Office. */
export function isJpMyNumber(digits: string): boolean {
  if (digits.length !== 12 || allSameChar(digits)) return false;
  let sum = 0;
  for (let n = 1; n <= 11; n++) {
    const p = d(digits, 11 - n);
    const q = n <= 6 ? n + 1 : n - 5;
    sum += p * q;
  }
  const r = sum % 11;
  return (r <= 1 ? 0 : 11 - r) === d(digits, 11);
}
