import { describe, expect, it } from "vitest";

import * as v from "./validators";

// Published or widely used example numbers, checked independently of the generators.
const VALID: ReadonlyArray<[string, (s: string) => boolean, string]> = [
  ["Visa test card", v.isCardNumber, "4242424242424242"],
  ["Amex test card", v.isCardNumber, "378282246310005"],
  ["Discover test card", v.isCardNumber, "6011111111111117"],
  ["JCB test card", v.isCardNumber, "3530111333300000"],
  ["Diners test card", v.isCardNumber, "30569309025904"],
  ["Mastercard 2-series", v.isCardNumber, "2223003122003222"],
  ["UnionPay test card", v.isCardNumber, "6200000000000005"],
  ["IBAN GB", v.isIban, "GB82WEST12345698765432"],
  ["IBAN DE", v.isIban, "DE89370400440532013000"],
  ["IBAN FR", v.isIban, "FR1420041010050500013M02606"],
  ["IBAN NL", v.isIban, "NL91ABNA0417164300"],
  ["IBAN MT (31)", v.isIban, "MT84MALT011000012345MTLCAST001S"],
  ["IBAN NO (15)", v.isIban, "NO9386011117947"],
  ["Verhoeff 2363", v.verhoeff, "2363"],
  ["SSN", v.isUsSsn, "123456789"],
  ["ITIN", v.isUsItin, "912701234"],
  ["ABA routing", v.isAbaRouting, "021000021"],
  ["ABA routing 2", v.isAbaRouting, "011000015"],
  ["NINO", v.isUkNino, "AB123456C"],
  ["NHS", v.isUkNhs, "9434765919"],
  ["SIN", v.isCaSin, "130692544"],
  ["TFN", v.isAuTfn, "123456782"],
  ["CPF", v.isBrCpf, "52998224725"],
  ["CNPJ", v.isBrCnpj, "11222333000181"],
  ["DNI", v.isEsDni, "12345678Z"],
  ["NIE", v.isEsNie, "X1234567L"],
  ["codice fiscale", v.isItCodiceFiscale, "RSSMRA85T10A562S"],
  ["Steuer-ID", v.isDeSteuerId, "86095742719"],
  ["Steuer-ID 2", v.isDeSteuerId, "47036892816"],
  ["NIR", v.isFrNir, "255081416802538"],
  ["BSN", v.isNlBsn, "111222333"],
  ["PESEL", v.isPlPesel, "44051401359"],
  ["PESEL 2000s", v.isPlPesel, "02070803628"],
  ["personnummer", v.isSePersonnummer, "8112189876"],
  ["HETU", v.isFiHetu, "131052-308T"],
  ["Belgian national number", v.isBeNationalNumber, "85073003328"],
  ["Chinese resident id", v.isCnResidentId, "11010519491231002X"],
  ["South African id", v.isZaId, "8001015009087"],
  ["NRIC", v.isSgNric, "S1234567D"],
  ["AHV", v.isChAhv, "7561234567897"],
  ["TCKN", v.isTrTckn, "10000000146"],
  ["Teudat Zehut", v.isIlId, "123456782"],
  ["NIF", v.isPtNif, "123456789"],
  ["PPS", v.isIePps, "1234567T"],
  ["PAN", v.isInPan, "ABCPD1234E"],
];

const INVALID: ReadonlyArray<[string, (s: string) => boolean, string]> = [
  ["card, Luhn off by one", v.isCardNumber, "4242424242424241"],
  ["card, unknown issuer", v.isCardNumber, "1234567812345670"],
  ["IBAN, wrong check digits", v.isIban, "GB83WEST12345698765432"],
  ["IBAN, wrong length for country", v.isIban, "DE8937040044053201300"],
  ["SSN area 000", v.isUsSsn, "000123456"],
  ["SSN area 666", v.isUsSsn, "666123456"],
  ["SSN area 9xx", v.isUsSsn, "912345678"],
  ["SSN group 00", v.isUsSsn, "123001234"],
  ["SSN serial 0000", v.isUsSsn, "123450000"],
  ["NINO prefix QQ", v.isUkNino, "QQ123456C"],
  ["NINO prefix GB", v.isUkNino, "GB123456A"],
  ["SIN starting 0", v.isCaSin, "046454286"],
  ["CPF repeated digits", v.isBrCpf, "11111111111"],
  ["CPF check", v.isBrCpf, "52998224726"],
  ["DNI letter", v.isEsDni, "12345678A"],
  ["codice fiscale check", v.isItCodiceFiscale, "RSSMRA85T10A562T"],
  ["Steuer-ID check", v.isDeSteuerId, "86095742718"],
  ["Steuer-ID no repeated digit", v.isDeSteuerId, "12345678903"],
  ["NIR key", v.isFrNir, "255081416802539"],
  ["BSN", v.isNlBsn, "111222334"],
  ["PESEL date", v.isPlPesel, "44133401359"],
  ["HETU check", v.isFiHetu, "131052-308U"],
  ["Chinese id check", v.isCnResidentId, "110105194912310021"],
  ["Chinese id date", v.isCnResidentId, "11010519491331002X"],
  ["NRIC letter", v.isSgNric, "S1234567A"],
  ["Aadhaar starting 1", v.isInAadhaar, "123412341234"],
];

describe("validators", () => {
  it.each(VALID)("accepts a valid %s", (_name, valid, value) => {
    expect(valid(value)).toBe(true);
  });

  it.each(INVALID)("rejects %s", (_name, valid, value) => {
    expect(valid(value)).toBe(false);
  });

  it("computes mod 97 of long numbers without precision loss", () => {
    expect(v.modString("3214282912345698765432161182", 97)).toBe(1);
  });

  it("knows calendar dates", () => {
    expect(v.isValidDate(2024, 2, 29)).toBe(true);
    expect(v.isValidDate(2023, 2, 29)).toBe(false);
    expect(v.isValidDate(2024, 4, 31)).toBe(false);
    expect(v.isValidDate(2024, 13, 1)).toBe(false);
  });
});
