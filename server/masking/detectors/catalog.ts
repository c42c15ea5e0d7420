// The list of detector types: name, label, category, how look-alikes are rejected, the context keywords
// that let a bare (unformatted) value through, and the score used when two detections overlap.
// Matching code lives in the family files (numeric, alnum, network, secrets); this is the table.
import "server-only";

import type { DetectorCategory, DetectorInfo } from "../types";

interface CatalogEntry extends DetectorInfo {
  /** Higher wins when detections overlap; context hits add CONTEXT_BONUS. */
  score: number;
  /** Keywords (lower case) that count as context when found shortly before a value or in a column name. */
  keywords?: readonly string[];
}

export const CONTEXT_BONUS = 25;

const entry = (
  type: string,
  label: string,
  category: DetectorCategory,
  validation: string,
  score: number,
  keywords?: readonly string[],
): CatalogEntry =>
  keywords
    ? { type, label, category, validation, score, keywords }
    : { type, label, category, validation, score };

const CATALOG: readonly CatalogEntry[] = [
  entry("credit_card", "Payment card number", "financial", "Luhn + issuer prefix and length", 80, [
    "card",
    "credit",
    "visa",
    "mastercard",
    "amex",
    "pan",
  ]),
  entry("iban", "IBAN", "financial", "per-country length + ISO 7064 mod 97", 80, ["iban", "account"]),
  entry("us_aba_routing", "US ABA routing number", "financial", "3-7-1 checksum; context required", 55, [
    "routing",
    "aba",
    "rtn",
    "transit number",
  ]),
  entry("email", "Email address", "contact", "RFC 5321 shape, letter TLD, file extensions rejected", 70),
  entry(
    "phone",
    "Phone number",
    "contact",
    "E.164 or US/UK/DE/FR/IN national layout; bare digits need context",
    30,
    [
      "phone",
      "tel",
      "telephone",
      "mobile",
      "mobil",
      "cell",
      "call",
      "fax",
      "whatsapp",
      "sms",
      "telefon",
      "handy",
      "téléphone",
      "contact",
    ],
  ),
  entry("ipv4", "IPv4 address", "network", "four octets 0-255, no leading zeros, not after 'version'", 45, [
    "ip",
    "addr",
    "host",
    "client",
    "remote",
  ]),
  entry("ipv6", "IPv6 address", "network", "RFC 4291 groups and :: compression", 50, ["ip", "addr", "host"]),
  entry("mac_address", "MAC address", "network", "six hex octets with : or -", 45, [
    "mac",
    "hwaddr",
    "ether",
  ]),
  entry("jwt", "JSON Web Token", "secret", "three base64url parts; header decodes to JSON with alg", 90),
  entry("private_key", "PEM private key", "secret", "BEGIN ... PRIVATE KEY block", 100),
  entry(
    "aws_access_key_id",
    "AWS access key id",
    "secret",
    "AKIA/ASIA/ABIA/ACCA + 16 upper-case alphanumerics",
    90,
  ),
  entry(
    "aws_secret_access_key",
    "AWS secret access key",
    "secret",
    "40 base64 characters assigned to an aws*secret* key",
    92,
  ),
  entry("github_token", "GitHub token", "secret", "ghp_/gho_/ghu_/ghs_/ghr_ + 36, github_pat_ + 22..", 90),
  entry("gitlab_token", "GitLab token", "secret", "glpat- + 20", 90),
  entry("slack_token", "Slack token", "secret", "xox[abeoprs]- with digits", 90),
  entry("slack_webhook_url", "Slack webhook URL", "secret", "hooks.slack.com/services/T../B../..", 90),
  entry("stripe_key", "Stripe key", "secret", "sk_/rk_/pk_ + live_/test_", 90),
  entry("google_api_key", "Google API key", "secret", "AIza + 35", 90),
  entry("openai_api_key", "OpenAI API key", "secret", "sk-/sk-proj- + 20.., mixed case and digits", 88),
  entry("anthropic_api_key", "Anthropic API key", "secret", "sk-ant- + 20..", 90),
  entry("npm_token", "npm token", "secret", "npm_ + 36", 90),
  entry("pypi_token", "PyPI token", "secret", "pypi-AgEIcHlwaS5vcmc..", 90),
  entry("sendgrid_api_key", "SendGrid API key", "secret", "SG.22.43", 90),
  entry("huggingface_token", "Hugging Face token", "secret", "hf_ + 34", 90),
  entry("digitalocean_token", "DigitalOcean token", "secret", "dop_v1_/doo_v1_/dor_v1_ + 64 hex", 90),
  entry("shopify_token", "Shopify token", "secret", "shpat_/shpca_/shppa_/shpss_ + 32 hex", 90),
  entry("bearer_token", "Bearer token", "secret", "Authorization Bearer value, 16+ characters", 60),
  entry("basic_auth", "Basic auth credentials", "secret", "Basic value that decodes to user:password", 60),
  entry("url_credentials", "Password in URL", "secret", "scheme://user:password@host", 85),
  entry("password", "Password assignment", "secret", "password=/passwd:/pwd= value", 58),
  entry("secret", "Secret assignment", "secret", "secret=/token:/api_key= and similar key-value pairs", 56),
  entry(
    "high_entropy_secret",
    "High-entropy secret",
    "secret",
    "key=value with 20+ mixed-case base64 characters and Shannon entropy above threshold",
    35,
  ),
  entry(
    "us_ssn",
    "US Social Security number",
    "national_id",
    "ddd-dd-dddd; area not 000/666/9xx, group not 00, serial not 0000; bare needs context",
    60,
    ["ssn", "social security", "soc sec"],
  ),
  entry("us_itin", "US ITIN", "national_id", "9dd-[50-65|70-88|90-92|94-99]-dddd; bare needs context", 62, [
    "itin",
    "taxpayer",
  ]),
  entry("us_ein", "US EIN", "national_id", "dd-ddddddd with an IRS prefix; context required", 50, [
    "ein",
    "fein",
    "employer identification",
    "tax id",
    "tin",
  ]),
  entry(
    "uk_nino",
    "UK National Insurance number",
    "national_id",
    "HMRC prefix rules, six digits, suffix A-D",
    65,
    ["nino", "national insurance", "ni number"],
  ),
  entry("uk_nhs", "UK NHS number", "national_id", "modulus 11; context required", 55, ["nhs"]),
  entry("ca_sin", "Canadian SIN", "national_id", "Luhn; ddd-ddd-ddd or ddd ddd ddd, bare needs context", 55, [
    "sin",
    "social insurance",
    "nas",
    "assurance sociale",
  ]),
  entry("au_tfn", "Australian TFN", "national_id", "weighted modulus 11; context required", 52, [
    "tfn",
    "tax file",
  ]),
  entry(
    "au_medicare",
    "Australian Medicare number",
    "national_id",
    "weights 1,3,7,9 modulo 10; context required",
    52,
    ["medicare"],
  ),
  entry(
    "br_cpf",
    "Brazilian CPF",
    "national_id",
    "two modulus 11 digits; ddd.ddd.ddd-dd, bare needs context",
    66,
    ["cpf"],
  ),
  entry(
    "br_cnpj",
    "Brazilian CNPJ",
    "national_id",
    "two modulus 11 digits; dd.ddd.ddd/dddd-dd, bare needs context",
    66,
    ["cnpj"],
  ),
  entry("mx_curp", "Mexican CURP", "national_id", "layout, birth date, modulus 10 check digit", 70, ["curp"]),
  entry("cl_rut", "Chilean RUT", "national_id", "modulus 11 (K for 10); dd.ddd.ddd-d", 62, ["rut", "run"]),
  entry("ar_cuit", "Argentine CUIT/CUIL", "national_id", "type prefix + modulus 11; dd-dddddddd-d", 62, [
    "cuit",
    "cuil",
  ]),
  entry("in_aadhaar", "Indian Aadhaar", "national_id", "Verhoeff; dddd dddd dddd, bare needs context", 64, [
    "aadhaar",
    "aadhar",
    "uidai",
    "uid",
  ]),
  entry("in_pan", "Indian PAN", "national_id", "AAAPA9999A with holder-type letter", 60, ["pan"]),
  entry("es_dni", "Spanish DNI", "national_id", "eight digits + mod 23 letter", 66, ["dni", "nif"]),
  entry("es_nie", "Spanish NIE", "national_id", "X/Y/Z + seven digits + mod 23 letter", 66, ["nie"]),
  entry("it_codice_fiscale", "Italian codice fiscale", "national_id", "layout + odd/even check letter", 70, [
    "codice fiscale",
    "cf",
  ]),
  entry(
    "de_steuer_id",
    "German Steuer-ID",
    "national_id",
    "digit-repetition rule + ISO 7064 MOD 11,10; dd ddd ddd ddd, bare needs context",
    60,
    ["steuer", "steuerid", "idnr", "identifikationsnummer", "tax id", "tin"],
  ),
  entry(
    "fr_nir",
    "French NIR (INSEE)",
    "national_id",
    "mod 97 key; s yy mm dd ddd ddd kk, bare needs context",
    66,
    ["nir", "insee", "sécurité sociale", "securite sociale", "numéro de sécu", "secu"],
  ),
  entry("nl_bsn", "Dutch BSN", "national_id", "11-proof; dddd.dd.ddd, bare needs context", 55, [
    "bsn",
    "burgerservicenummer",
    "sofinummer",
  ]),
  entry(
    "be_national_number",
    "Belgian national number",
    "national_id",
    "mod 97 (+2 prefix after 2000); yy.mm.dd-sss.cc, bare needs context",
    64,
    ["rijksregister", "registre national", "national number", "insz", "niss"],
  ),
  entry("pl_pesel", "Polish PESEL", "national_id", "birth date + weights 1,3,7,9; context required", 58, [
    "pesel",
  ]),
  entry(
    "se_personnummer",
    "Swedish personnummer",
    "national_id",
    "birth date + Luhn; yymmdd-nnnn, bare needs context",
    58,
    ["personnummer", "personnr", "samordningsnummer", "pnr"],
  ),
  entry("fi_hetu", "Finnish HETU", "national_id", "birth date, century sign, mod 31 check character", 64, [
    "hetu",
    "henkilötunnus",
    "henkilotunnus",
    "personbeteckning",
  ]),
  entry(
    "dk_cpr",
    "Danish CPR number",
    "national_id",
    "ddmmyy-ssss birth date (no checksum since 2007); context required",
    50,
    ["cpr"],
  ),
  entry(
    "no_fodselsnummer",
    "Norwegian fødselsnummer",
    "national_id",
    "birth date + two modulus 11 digits; ddmmyy nnnnn, bare needs context",
    60,
    ["fødselsnummer", "fodselsnummer", "fnr", "personnummer"],
  ),
  entry("ch_ahv", "Swiss AHV/AVS number", "national_id", "756 + EAN-13 check; 756.dddd.dddd.dd", 66, [
    "ahv",
    "avs",
    "sozialversicherungsnummer",
  ]),
  entry("ie_pps", "Irish PPS number", "national_id", "seven digits + mod 23 letter; context required", 55, [
    "pps",
    "ppsn",
    "personal public service",
  ]),
  entry("pt_nif", "Portuguese NIF", "national_id", "modulus 11; context required", 52, [
    "nif",
    "contribuinte",
  ]),
  entry(
    "ro_cnp",
    "Romanian CNP",
    "national_id",
    "birth date + 279146358279 modulus 11; context required",
    58,
    ["cnp", "cod numeric personal"],
  ),
  entry("tr_tckn", "Turkish TC Kimlik No", "national_id", "two check digits; context required", 58, [
    "kimlik",
    "tckn",
    "tc no",
    "t.c.",
  ]),
  entry("il_id", "Israeli Teudat Zehut", "national_id", "Luhn-style weights; context required", 52, [
    "teudat zehut",
    "zehut",
    "israeli id",
  ]),
  entry(
    "cn_resident_id",
    "Chinese resident identity number",
    "national_id",
    "region, birth date, ISO 7064 MOD 11-2",
    85,
    ["身份证", "resident id", "id card"],
  ),
  entry(
    "za_id",
    "South African ID number",
    "national_id",
    "birth date, citizenship digit, Luhn; yymmdd ssss cab, bare needs context",
    58,
    ["id number", "identity number", "rsa id", "sa id"],
  ),
  entry(
    "kr_rrn",
    "Korean resident registration number",
    "national_id",
    "yymmdd-gnnnnnc birth date + check digit",
    64,
    ["rrn", "resident registration", "주민등록번호"],
  ),
  entry("jp_my_number", "Japanese My Number", "national_id", "check digit; context required", 55, [
    "my number",
    "mynumber",
    "個人番号",
    "マイナンバー",
  ]),
  entry("sg_nric", "Singapore NRIC/FIN", "national_id", "S/T/F/G + seven digits + check letter", 68, [
    "nric",
    "fin",
  ]),
];

const BY_TYPE = new Map(CATALOG.map((e) => [e.type, e]));

export const DETECTOR_INFO: readonly DetectorInfo[] = CATALOG.map(
  ({ type, label, category, validation }) => ({
    type,
    label,
    category,
    validation,
  }),
);

export const DETECTOR_TYPES: readonly string[] = CATALOG.map((e) => e.type);

export function scoreOf(type: string): number {
  return BY_TYPE.get(type)?.score ?? 50;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** One regex per type: any keyword, not preceded by a letter or digit. */
export const KEYWORDS: ReadonlyMap<string, RegExp> = new Map(
  CATALOG.filter((e) => e.keywords).map((e) => [
    e.type,
    new RegExp(`(?<![a-z0-9])(?:${e.keywords!.map(escapeRe).join("|")})`, "i"),
  ]),
);
