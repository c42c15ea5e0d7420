/**
 * Sample data for the demo target: customers with realistic (synthetic) sensitive values, orders, support
 * tickets that mention card numbers in free text, and an api_keys table. Deterministic, so screenshots and
 * tests see the same rows on every start. Card numbers pass the Luhn check; SSNs avoid invalid ranges.
 */

const FIRST = [
  "Ada",
  "Grace",
  "Alan",
  "Edsger",
  "Barbara",
  "Ken",
  "Margaret",
  "Dennis",
  "Frances",
  "Linus",
  "Radia",
  "Tim",
  "Hedy",
  "John",
  "Katherine",
  "Donald",
  "Sophie",
  "Niklaus",
  "Annie",
  "Whitfield",
];
const LAST = [
  "Lovelace",
  "Hopper",
  "Turing",
  "Dijkstra",
  "Liskov",
  "Thompson",
  "Hamilton",
  "Ritchie",
  "Allen",
  "Torvalds",
  "Perlman",
  "Berners-Lee",
  "Lamarr",
  "McCarthy",
  "Johnson",
  "Knuth",
  "Wilson",
  "Wirth",
  "Easley",
  "Diffie",
];
const COUNTRIES = ["US", "GB", "DE", "FR", "NL", "ES", "IT", "CA", "BR", "IN"];
const STATUSES = ["paid", "paid", "paid", "shipped", "refunded", "pending"];
const ISSUER_PREFIXES = ["4", "51", "52", "53", "37", "6011"];

function mulberry32(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function luhnCheckDigit(partial: string): number {
  let sum = 0;
  for (let i = 0; i < partial.length; i++) {
    let d = Number(partial[partial.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

export interface SampleData {
  customers: {
    id: number;
    full_name: string;
    email: string;
    phone: string;
    card_number: string;
    ssn: string;
    country: string;
    created_at: string;
  }[];
  orders: { id: number; customer_id: number; amount: string; status: string; created_at: string }[];
  tickets: { id: number; customer_id: number; subject: string; body: string }[];
  apiKeys: { id: number; service: string; api_key: string; owner_email: string }[];
}

export function generateSampleData(customerCount = 200, orderCount = 1000): SampleData {
  const rand = mulberry32(20261123);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 10)).join("");
  const card = () => {
    const prefix = pick(ISSUER_PREFIXES);
    const length = prefix === "37" ? 15 : 16;
    const body = prefix + digits(length - prefix.length - 1);
    const full = body + luhnCheckDigit(body);
    return length === 15
      ? `${full.slice(0, 4)} ${full.slice(4, 10)} ${full.slice(10)}`
      : full.replace(/(\d{4})(?=\d)/g, "$1 ");
  };
  const ssn = () => {
    const area = 1 + Math.floor(rand() * 665); // 001-665 (666 and 900+ are never issued)
    const group = 1 + Math.floor(rand() * 99);
    const serial = 1 + Math.floor(rand() * 9999);
    return `${String(area).padStart(3, "0")}-${String(group).padStart(2, "0")}-${String(serial).padStart(4, "0")}`;
  };
  const day = (offset: number) => new Date(Date.UTC(2026, 0, 1) + offset * 3_600_000).toISOString();
  const customers = Array.from({ length: customerCount }, (_, i) => {
    const first = pick(FIRST);
    const last = pick(LAST);
    return {
      id: i + 1,
      full_name: `${first} ${last}`,
      email: `${first}.${last}${i}@example.com`.toLowerCase().replace(/[^a-z0-9.@-]/g, ""),
      phone: `+1 (${200 + Math.floor(rand() * 700)}) 555-${digits(4)}`,
      card_number: card(),
      ssn: ssn(),
      country: pick(COUNTRIES),
      created_at: day(i * 7),
    };
  });
  const orders = Array.from({ length: orderCount }, (_, i) => ({
    id: i + 1,
    customer_id: 1 + Math.floor(rand() * customerCount),
    amount: (5 + rand() * 495).toFixed(2),
    status: pick(STATUSES),
    created_at: day(i * 3 + 100),
  }));
  const tickets = Array.from({ length: 40 }, (_, i) => {
    const customer = customers[(i * 3) % customerCount]!;
    const mentionsCard = i % 3 === 0;
    return {
      id: i + 1,
      customer_id: customer.id,
      subject: mentionsCard ? "Charge I don't recognise" : "Question about my order",
      body: mentionsCard
        ? `Hi, my card ${customer.card_number} was charged twice. Reach me at ${customer.phone} or ${customer.email}.`
        : `Hello, when will order #${1000 + i} ship? Thanks, ${customer.full_name}`,
    };
  });
  const apiKeys = ["billing", "search", "email", "analytics", "payments"].map((service, i) => ({
    id: i + 1,
    service,
    api_key:
      service === "payments"
        ? `sk_live_${digits(8)}${"abcdefghij".slice(0, 8)}${digits(8)}`
        : `AKIA${digits(4)}EXAMPLE${"QRSTUV".slice(0, 5)}`,
    owner_email: `${service}-owner@example.com`,
  }));
  return { customers, orders, tickets, apiKeys };
}

const quote = (v: string) => `'${v.replace(/'/g, "''")}'`;

export function sampleDataSql(data: SampleData = generateSampleData()): string {
  const rows = <T extends Record<string, string | number>>(list: T[]) =>
    list
      .map(
        (r) =>
          `(${Object.values(r)
            .map((v) => (typeof v === "number" ? String(v) : quote(v)))
            .join(", ")})`,
      )
      .join(",\n");
  return `
create table customers (id int primary key, full_name text not null, email text not null, phone text, card_number text, ssn text, country char(2), created_at timestamptz not null);
create table orders (id int primary key, customer_id int not null references customers(id), amount numeric(10,2) not null, status text not null, created_at timestamptz not null);
create table support_tickets (id int primary key, customer_id int not null references customers(id), subject text not null, body text not null);
create table api_keys (id int primary key, service text not null, api_key text not null, owner_email text not null);
insert into customers values ${rows(data.customers)};
insert into orders values ${rows(data.orders)};
insert into support_tickets values ${rows(data.tickets)};
insert into api_keys values ${rows(data.apiKeys)};
`;
}
