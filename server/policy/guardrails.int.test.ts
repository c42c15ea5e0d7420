// Guardrails against a determined analyst, end to end through the real pipeline (runSql) on a real PostgreSQL 15:
// default rules plus a rule denying table payroll. Two tables: everyday analyst queries that must stay reads and
// run (over-blocking), and bypass attempts that must never run unreviewed (issue 18's reproductions and their
// relatives). The figures go in the README's Policies section.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "@/server/principal";
import { TEST_ACTOR as actor, type GatewayFixture, startGatewayFixture } from "@/test/harness/gateway";

const PG15 = "/usr/lib/postgresql/15/bin";
let gateway: GatewayFixture;
let targetUrl: string;
let analyst: Principal;

const FIXTURE = `
  create table customers (id int primary key, name text, email text, country text, tier text, created_at timestamptz);
  insert into customers select g, 'customer ' || g, 'c' || g || '@example.com',
    (array['FR','DE','US','JP'])[1 + g % 4], (array['gold','silver','bronze'])[1 + g % 3],
    timestamptz '2026-01-01' + g * interval '1 day' from generate_series(1, 40) g;
  create table products (id int primary key, name text, category text, price numeric(10,2), description text, doc tsvector);
  insert into products select g, 'product ' || g, (array['books','games','tools'])[1 + g % 3], g * 2.5,
    'a fine ' || (array['red','blue','green'])[1 + g % 3] || ' thing for cats and dogs', null from generate_series(1, 30) g;
  update products set doc = to_tsvector('english', name || ' ' || description);
  create table orders (id int primary key, customer_id int references customers, amount numeric(10,2), status text,
    created_at timestamptz, tags text[], meta jsonb);
  insert into orders select g, 1 + g % 40, g * 1.25, (array['open','paid','shipped'])[1 + g % 3],
    timestamptz '2026-02-01' + g * interval '5 hours', array['t' || g % 5, 'x'],
    jsonb_build_object('channel', (array['web','shop'])[1 + g % 2], 'items', g % 7, 'gift', g % 2 = 0)
    from generate_series(1, 200) g;
  create table order_items (order_id int, product_id int, qty int, price numeric(10,2));
  insert into order_items select 1 + g % 200, 1 + g % 30, 1 + g % 4, 3.5 from generate_series(1, 500) g;
  create table events (id serial primary key, kind text, payload json, at timestamp);
  insert into events (kind, payload, at) select (array['click','view'])[1 + g % 2],
    json_build_object('page', '/p/' || g, 'ms', g * 3), timestamp '2026-03-01' + g * interval '1 minute'
    from generate_series(1, 100) g;
  create table payroll (id int primary key, employee text, dept text, salary numeric);
  insert into payroll values (1, 'Ada', 'eng', 200000), (2, 'Grace', 'eng', 210000), (3, 'Alan', 'ops', 150000);
  create view payroll_view as select * from payroll;
  create view payroll_by_dept as select dept, sum(salary) as total from payroll_view group by dept;
  create materialized view payroll_mv as select dept, avg(salary) as mean from payroll group by dept;
  create schema hr;
  create view hr.people as select employee from public.payroll;
  create view recent_orders as select id, amount, created_at from orders where created_at > timestamptz '2026-02-10';
  create view customer_totals as select c.id, c.name, sum(o.amount) as total
    from customers c join orders o on o.customer_id = c.id group by c.id, c.name;
  create function order_total(int) returns numeric stable language sql as $$ select sum(amount) from orders where customer_id = $1 $$;
  create function add_one(int) returns int immutable language sql as $$ select $1 + 1 $$;
  create function purge_orders() returns int language sql as $$ delete from order_items; select 1 $$;
  create function definer_read() returns int stable security definer language sql as $$ select 1 $$;
  create function evil_eq(int, int) returns boolean language plpgsql as $$ begin delete from order_items; return $1 = $2; end $$;
  create operator === (leftarg = int, rightarg = int, function = evil_eq);
  create function salaries() returns setof payroll stable language sql as $$ select * from payroll $$;
  create function payroll_total() returns numeric stable language sql as $$ select sum(salary) from salaries() $$;
  create view purging as select purge_orders() as n;
  create view sneaky_payroll as select employee, salary from payroll_by_dept, payroll where payroll.dept = payroll_by_dept.dept;
  create table sensitive_leak as select 1 as n;
`;

beforeAll(async () => {
  gateway = await startGatewayFixture({ name: "guardrails", targetSql: FIXTURE, binDir: PG15 });
  targetUrl = gateway.targetUrl;
  const { createServiceAccount, loadPrincipal } = await import("@/server/auth");
  const { createRule } = await import("@/server/policy");
  await createRule(actor, {
    name: "No payroll",
    tables: ["payroll"],
    action: "deny",
    message: "payroll is not for analysts",
  });
  const account = await createServiceAccount(actor, { name: "analyst-bot", groups: ["analysts"] });
  analyst = (await loadPrincipal(account.id, "token"))!;
}, 180_000);

afterAll(async () => {
  await gateway?.stop();
});

async function run(input: string) {
  const { runSql } = await import("@/server/pipeline");
  return runSql({ principal: analyst, connectionName: "shop", input, channel: "api" });
}

async function targetCount(sql: string): Promise<number> {
  const target = postgres(targetUrl, { max: 1, onnotice: () => {} });
  try {
    return Number((await target.unsafe(sql))[0]?.n);
  } finally {
    await target.end();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Everyday analyst queries: they must be classified read and run.

const HAND_WRITTEN_READS = [
  "select 1",
  "select now()",
  "select current_date, current_timestamp, localtimestamp",
  "select clock_timestamp() > now() - interval '1 hour'",
  "select random() < 2",
  "select gen_random_uuid() is not null",
  "select md5('abc'), sha256('abc'::bytea)",
  "select lower('ABC'), upper('abc'), initcap('hello world')",
  "select count(*) from orders",
  "select count(distinct customer_id) from orders",
  "select status, count(*), sum(amount), avg(amount), min(amount), max(amount) from orders group by status",
  "select customer_id, sum(amount) from orders group by customer_id having sum(amount) > 100 order by 2 desc limit 5",
  "select c.name, o.amount from customers c join orders o on o.customer_id = c.id where o.amount > 50",
  "select c.name, count(o.id) from customers c left join orders o on o.customer_id = c.id group by c.name",
  "select * from customers c where exists (select 1 from orders o where o.customer_id = c.id and o.status = 'paid')",
  "select * from customers where id in (select customer_id from orders where amount > 200)",
  "select p.name, sum(oi.qty) from order_items oi join products p on p.id = oi.product_id group by p.name order by 2 desc",
  "select o.id, c.country, p.category from orders o join customers c on c.id = o.customer_id join order_items oi on oi.order_id = o.id join products p on p.id = oi.product_id limit 20",
  "select id, amount, rank() over (order by amount desc) from orders",
  "select id, amount, row_number() over (partition by status order by created_at) from orders",
  "select id, amount, sum(amount) over (order by created_at rows between 6 preceding and current row) from orders",
  "select id, lag(amount) over (order by id), lead(amount) over (order by id) from orders",
  "select status, percentile_cont(0.5) within group (order by amount) from orders group by status",
  "select ntile(4) over (order by amount), amount from orders",
  "select first_value(amount) over w, last_value(amount) over w from orders window w as (partition by status order by id)",
  "select dense_rank() over (partition by customer_id order by amount) from orders",
  "select cume_dist() over (order by amount), percent_rank() over (order by amount) from orders",
  "with big as (select * from orders where amount > 100) select count(*) from big",
  "with recursive n(i) as (select 1 union all select i + 1 from n where i < 10) select sum(i) from n",
  "with totals as (select customer_id, sum(amount) t from orders group by 1) select c.name, t from totals join customers c on c.id = customer_id",
  "with a as (select 1 x), b as (select x + 1 y from a) select * from b",
  "select meta->>'channel', count(*) from orders group by 1",
  "select meta->'items', meta @> '{\"gift\": true}' from orders limit 5",
  "select jsonb_build_object('id', id, 'amount', amount) from orders limit 3",
  "select jsonb_agg(id) from orders where amount < 10",
  "select jsonb_pretty(meta) from orders limit 1",
  "select jsonb_each_text(meta) from orders limit 3",
  "select jsonb_object_keys(meta) from orders limit 3",
  "select jsonb_array_elements('[1,2,3]'::jsonb)",
  "select jsonb_set(meta, '{items}', '0') from orders limit 1",
  "select jsonb_path_query(meta, '$.items') from orders limit 2",
  "select meta #>> '{channel}' from orders limit 2",
  "select jsonb_typeof(meta->'gift') from orders limit 1",
  "select jsonb_strip_nulls(meta) from orders limit 1",
  "select to_jsonb(c) from customers c limit 2",
  "select row_to_json(o) from orders o limit 2",
  "select json_agg(payload) from events where kind = 'click'",
  "select payload->>'page', (payload->>'ms')::int from events limit 5",
  "select json_build_array(1, 2, 'x')",
  "select json_extract_path_text(payload, 'page') from events limit 2",
  'select * from json_populate_record(null::events, \'{"id": 1, "kind": "x"}\')',
  'select * from jsonb_to_recordset(\'[{"a":1},{"a":2}]\') as x(a int)',
  "select date_trunc('month', created_at), sum(amount) from orders group by 1 order by 1",
  "select extract(dow from created_at), count(*) from orders group by 1",
  "select date_part('hour', created_at) from orders limit 3",
  "select created_at::date, count(*) from orders group by 1",
  "select age(timestamptz '2026-12-01', created_at) from customers limit 3",
  "select to_char(created_at, 'YYYY-MM-DD HH24:MI') from orders limit 3",
  "select to_date('2026-05-01', 'YYYY-MM-DD'), to_timestamp(0)",
  "select make_date(2026, 5, 1), make_interval(days => 3)",
  "select created_at + interval '1 week' from orders limit 2",
  "select justify_interval(interval '40 days 30 hours')",
  "select * from generate_series(1, 10)",
  "select d::date from generate_series(timestamp '2026-01-01', timestamp '2026-01-31', interval '1 day') d",
  "select date_bin('15 minutes', at, timestamp '2026-01-01'), count(*) from events group by 1",
  "select now() at time zone 'UTC', timezone('Europe/Paris', now())",
  "select created_at between timestamptz '2026-02-01' and timestamptz '2026-03-01' from orders limit 2",
  "select isfinite(date '2026-01-01'), date '2026-01-01' - date '2025-01-01'",
  "select to_tsvector('english', description) from products limit 2",
  "select name from products where doc @@ to_tsquery('english', 'cats & dogs')",
  "select name, ts_rank(doc, plainto_tsquery('english', 'red thing')) from products order by 2 desc limit 3",
  "select ts_headline('english', description, websearch_to_tsquery('english', 'blue')) from products limit 2",
  "select phraseto_tsquery('english', 'fine thing')",
  "select ts_rewrite('a & b'::tsquery, 'a'::tsquery, 'c'::tsquery)",
  "select numnode('a & b'::tsquery), querytree('a & !b'::tsquery)",
  "select setweight(to_tsvector('simple', 'a b'), 'A')",
  "select amount::int, amount::text, id::bigint, '42'::numeric from orders limit 2",
  "select cast(amount as double precision) from orders limit 2",
  "select '2026-01-01'::timestamptz, 'yes'::boolean, '{1,2}'::int[]",
  "select coalesce(null, 1), nullif(1, 1), greatest(1, 2), least(1, 2)",
  "select case when amount > 100 then 'big' else 'small' end, count(*) from orders group by 1",
  "select round(avg(amount), 2), trunc(amount), ceil(amount), floor(amount) from orders group by amount limit 3",
  "select abs(-1), sqrt(2), power(2, 10), mod(10, 3), ln(10), exp(1), log(100)",
  "select width_bucket(amount, 0, 300, 10), count(*) from orders group by 1",
  "select stddev(amount), variance(amount), corr(amount, id) from orders",
  "select regr_slope(amount, id), covar_pop(amount, id) from orders",
  "select string_agg(name, ', ' order by name) from customers where tier = 'gold'",
  "select array_agg(id order by id) from orders where amount < 10",
  "select unnest(tags), count(*) from orders group by 1",
  "select array_length(tags, 1), tags[1], cardinality(tags) from orders limit 3",
  "select 'x' = any(tags) from orders limit 3",
  "select array_to_string(tags, ','), array_position(tags, 'x') from orders limit 2",
  "select concat(name, ' <', email, '>'), concat_ws('-', country, tier) from customers limit 3",
  "select substring(email from '@(.*)$'), split_part(email, '@', 2) from customers limit 3",
  "select regexp_replace(name, '\\d+', 'N'), regexp_matches(email, '^(\\w+)@') from customers limit 3",
  "select length(name), char_length(name), octet_length(name), position('@' in email) from customers limit 2",
  "select trim('  x  '), ltrim('xxa', 'x'), rtrim('axx', 'x'), btrim('xax', 'x')",
  "select left(name, 3), right(name, 2), repeat('ab', 3), reverse(name), lpad(id::text, 3, '0') from customers limit 2",
  "select replace(email, 'example', 'sample'), translate('abc', 'ab', 'xy') from customers limit 1",
  "select format('%s has %s', name, tier) from customers limit 2",
  "select quote_ident('Some Name'), quote_literal('it''s'), quote_nullable(null)",
  "select encode('abc'::bytea, 'hex'), decode('616263', 'hex'), encode(sha224('x'), 'base64')",
  "select email ilike '%@example.com', name like 'customer 1%', name similar to 'customer [0-9]+' from customers limit 2",
  "select starts_with(name, 'cust') from customers limit 1",
  "select to_hex(255), to_number('12,345', '99G999'), to_char(1234.5, '9G999D99')",
  "select distinct country from customers order by 1",
  "select distinct on (customer_id) customer_id, amount from orders order by customer_id, amount desc",
  "select country, tier, count(*) from customers group by rollup (country, tier)",
  "select country, tier, count(*) from customers group by cube (country, tier)",
  "select country, count(*) filter (where tier = 'gold') from customers group by country",
  "select id from orders union select id from customers order by 1 limit 5",
  "select id from orders intersect select id from customers",
  "select id from orders except select customer_id from orders order by 1 limit 5",
  "select * from customers c cross join lateral (select amount from orders o where o.customer_id = c.id order by amount desc limit 1) top",
  "select * from orders o full join customers c on c.id = o.customer_id limit 5",
  "select * from orders natural join order_items limit 3",
  "select o.id from orders o join order_items using (order_id) limit 1".replace(
    "using (order_id)",
    "on order_items.order_id = o.id",
  ),
  "select * from recent_orders order by created_at desc limit 5",
  "select * from customer_totals order by total desc nulls last limit 5",
  "select order_total(1)",
  "select add_one(41)",
  "select name, order_total(id) from customers limit 3",
  "select * from orders tablesample system (50) limit 1",
  "select * from orders order by amount desc fetch first 3 rows only",
  "select * from orders offset 10 limit 10",
  "values (1, 'a'), (2, 'b')",
  "table customers limit 2".replace(" limit 2", ""),
  "select pg_typeof(amount) from orders limit 1",
  "select current_user, session_user, current_database(), current_schema()",
  "select version()",
  "select pg_size_pretty(pg_total_relation_size('orders'))",
  "select pg_relation_size('customers'), pg_table_size('orders')",
  "select pg_database_size(current_database()) > 0",
  "select relname, n_live_tup from pg_stat_user_tables order by 1",
  "select table_name from information_schema.tables where table_schema = 'public' order by 1",
  "select column_name, data_type from information_schema.columns where table_name = 'orders'",
  "select schemaname, tablename from pg_tables where schemaname = 'public'",
  "select indexname, indexdef from pg_indexes where tablename = 'orders'",
  "select conname from pg_constraint where conrelid = 'orders'::regclass",
  "select rolname from pg_roles order by 1 limit 3",
  "select name, setting from pg_settings where name = 'work_mem'",
  "select current_setting('TimeZone')",
  "select locktype, mode from pg_locks limit 3",
  "select has_table_privilege('orders', 'select')",
  "select obj_description('orders'::regclass)",
  "select pg_get_viewdef('recent_orders'::regclass)",
  "select format_type(atttypid, atttypmod) from pg_attribute where attrelid = 'orders'::regclass and attnum > 0",
  "select txid_current() > 0",
  "select inet '10.0.0.1' << inet '10.0.0.0/8', host(inet '10.1.2.3/24')",
  "select point(1, 2) <-> point(4, 6)",
  "select int4range(1, 10) @> 5, daterange('2026-01-01', '2026-02-01') && daterange('2026-01-15', '2026-03-01')",
  "select 'a'::text || 'b', 1 + 2 * 3, 7 / 2, 7 % 2, 2 ^ 8",
  "select true and not false, 1 is distinct from 2, null is null",
  "select uuid_generate_v4 is null from (select null as uuid_generate_v4) x",
  "select amount from orders where amount between 10 and 20 and status <> 'open'",
  "select * from customers where email is not null and country in ('FR', 'DE') order by created_at limit 5",
  "select customer_id, amount from orders where (customer_id, amount) > (5, 10) limit 3",
  "select * from orders where created_at >= now() - interval '10 years'",
  "select mode() within group (order by status) from orders",
  "select bool_and(amount > 0), bool_or(amount > 250), every(amount > 0) from orders",
  "select bit_and(id), bit_or(id) from orders",
  "select xmlelement(name item, xmlattributes(id as id), amount) from orders limit 2",
  "select xmlforest(name, email) from customers limit 1",
  "select explain_this from (select 1 as explain_this) t",
  "explain select * from orders where amount > 10",
  "explain analyze select count(*) from orders",
  "explain (format json) select * from customers",
  "show work_mem",
  "set statement_timeout = '30s'",
  "begin; select count(*) from orders; commit",
  "select set_config('work_mem', '64MB', true)",
  "select 1 operator(pg_catalog.+) 2",
  "select id from orders where id operator(pg_catalog.=) 1",
  "select sum(amount) filter (where meta->>'channel' = 'web') from orders",
  "select grouping(country), country, count(*) from customers group by grouping sets ((country), ())",
  "select * from unnest(array[1,2,3]) with ordinality as t(x, n)",
  "select * from rows from (generate_series(1, 3), generate_series(1, 2)) as t(a, b)",
  "select array(select id from orders order by id limit 3)",
  "select exists (select 1 from customers where tier = 'gold')",
  "select (select max(amount) from orders) - (select min(amount) from orders)",
  "prepare top_orders as select * from orders order by amount desc limit 3; execute top_orders; deallocate top_orders",
  "declare c cursor for select * from orders; fetch 2 from c; close c".replace("declare", "begin; declare") +
    "; commit",
  "select table_to_xml('customers', true, false, '')",
  "select query_to_xml('select id, name from customers limit 2', true, false, '')",
  "select ts_stat('select doc from products') is not null limit 1".replace(" is not null limit 1", ""),
  "select * from ts_stat('select doc from products') order by ndoc desc limit 5",
  "select ts_rewrite('cats'::tsquery, 'select ''cats''::tsquery, ''dogs''::tsquery')",
];

// Built-in functions over the fixture's columns, so the allowlist is exercised broadly (one query each).
const FUNCTION_READS: string[] = [
  ...[
    "abs(amount)",
    "ceil(amount)",
    "floor(amount)",
    "round(amount)",
    "round(amount, 1)",
    "trunc(amount, 1)",
    "sign(amount)",
    "sqrt(amount)",
    "cbrt(amount)",
    "exp(amount / 100)",
    "ln(amount)",
    "log(amount)",
    "log10(amount)",
    "degrees(amount)",
    "radians(amount)",
    "sin(amount)",
    "cos(amount)",
    "tan(amount)",
    "atan(amount)",
    "scale(amount)",
    "div(amount, 3)",
    "mod(id, 7)",
    "gcd(id, 12)",
    "lcm(id, 4)",
    "factorial(id % 5)",
    "width_bucket(amount, 0, 250, 5)",
    "to_char(amount, 'FM999.00')",
    "amount::money",
    "num_nonnulls(amount, meta)",
    "num_nulls(amount, meta)",
  ].map((expression) => `select ${expression} from orders limit 3`),
  ...[
    "upper(name)",
    "lower(email)",
    "initcap(name)",
    "length(email)",
    "bit_length(name)",
    "md5(email)",
    "encode(sha256(email::bytea), 'hex')",
    "encode(sha384(email::bytea), 'hex')",
    "encode(sha512(email::bytea), 'hex')",
    "ascii(name)",
    "chr(65)",
    "strpos(email, '@')",
    "substr(name, 1, 4)",
    "overlay(name placing 'X' from 1 for 1)",
    "rpad(name, 20, '.')",
    "lpad(name, 20, '.')",
    "split_part(email, '@', 1)",
    "regexp_split_to_array(email, '@')",
    "regexp_substr(email, '[a-z]+')",
    "regexp_count(email, 'e')",
    "regexp_like(email, '^c')",
    "string_to_array(email, '@')",
    "unistr('\\0041')",
    "normalize(name)",
    "name is nfc normalized",
    "convert_to(name, 'UTF8')",
    "convert_from(convert_to(name, 'UTF8'), 'UTF8')",
    "quote_literal(name)",
    "md5(name) = md5(name)",
  ].map((expression) => `select ${expression} from customers limit 3`),
  ...[
    "date_trunc('week', created_at)",
    "date_trunc('day', created_at, 'UTC')",
    "extract(epoch from created_at)",
    "extract(isodow from created_at)",
    "extract(quarter from created_at)",
    "date_part('doy', created_at)",
    "created_at::time",
    "to_char(created_at, 'Dy')",
    "age(created_at)",
    "justify_days(now() - created_at)",
    "created_at - interval '3 days'",
    "(created_at at time zone 'Asia/Tokyo')::date",
    "make_timestamptz(2026, 1, 2, 3, 4, 5, 'UTC')",
    "overlaps_check from (select (created_at, interval '1 day') overlaps (now(), interval '1 day') as overlaps_check from customers) x",
    "timeofday() is not null",
    "statement_timestamp() >= transaction_timestamp()",
    "date_bin('1 hour', created_at, timestamptz '2026-01-01')",
    "isfinite(created_at)",
    "to_timestamp(extract(epoch from created_at))",
    "created_at::date - date '2026-01-01'",
  ].map((expression) =>
    expression.includes(" from (")
      ? `select ${expression} limit 3`
      : `select ${expression} from customers limit 3`,
  ),
  ...[
    "jsonb_typeof(meta)",
    "jsonb_array_length('[1,2]'::jsonb)",
    "jsonb_exists(meta, 'gift')",
    "meta ? 'gift'",
    "meta ?| array['gift', 'x']",
    "meta - 'gift'",
    "meta || '{\"x\": 1}'",
    "jsonb_insert(meta, '{new}', '1')",
    "jsonb_path_exists(meta, '$.items ? (@ > 3)')",
    "jsonb_path_query_first(meta, '$.channel')",
    "jsonb_path_query_array(meta, '$.*')",
    "jsonb_path_match(meta, '$.items > 2')",
    "to_json(meta)",
    "meta::text",
    "(meta->>'items')::int + 1",
    "jsonb_build_array(id, amount)",
    "json_object('{a,1,b,2}')",
    "jsonb_object_agg(id, amount) over ()",
    "jsonb_populate_record(null::orders, jsonb_build_object('id', 1))",
    "jsonb_each(meta)",
  ].map((expression) => `select ${expression} from orders limit 3`),
  ...[
    "count(*)",
    "count(distinct status)",
    "sum(amount)",
    "avg(amount)",
    "min(created_at)",
    "max(created_at)",
    "stddev_pop(amount)",
    "stddev_samp(amount)",
    "var_pop(amount)",
    "var_samp(amount)",
    "regr_count(amount, id)",
    "regr_r2(amount, id)",
    "regr_intercept(amount, id)",
    "covar_samp(amount, id)",
    "percentile_disc(0.9) within group (order by amount)",
    "array_agg(distinct status)",
    "string_agg(status, '|')",
    "jsonb_agg(meta)",
    "json_object_agg(id, status)",
    "xmlagg(xmlelement(name s, status))",
  ].map((expression) => `select ${expression} from orders`),
  ...[
    "rank()",
    "dense_rank()",
    "row_number()",
    "percent_rank()",
    "cume_dist()",
    "ntile(3)",
    "lag(amount, 2)",
    "lead(amount, 2, 0)",
    "first_value(status)",
    "last_value(status)",
    "nth_value(amount, 2)",
    "count(*)",
    "sum(amount)",
    "avg(amount)",
    "max(amount)",
  ].map((expression) => `select ${expression} over (partition by status order by id) from orders limit 5`),
  ...["books", "games", "tools"].flatMap((category) => [
    `select count(*) from products where category = '${category}'`,
    `select avg(price) from products where category = '${category}'`,
    `select name from products where category = '${category}' and doc @@ to_tsquery('simple', 'cats')`,
  ]),
  ...["FR", "DE", "US", "JP"].flatMap((country) => [
    `select count(*) from customers where country = '${country}'`,
    `select sum(o.amount) from orders o join customers c on c.id = o.customer_id where c.country = '${country}'`,
    `select date_trunc('month', o.created_at), count(*) from orders o join customers c on c.id = o.customer_id where c.country = '${country}' group by 1`,
  ]),
  ...["open", "paid", "shipped"].flatMap((status) => [
    `select count(*), sum(amount) from orders where status = '${status}'`,
    `with s as (select * from orders where status = '${status}') select customer_id, count(*) from s group by 1 order by 2 desc limit 3`,
    `select id, amount, amount - avg(amount) over () from orders where status = '${status}' limit 5`,
  ]),
  ...[1, 5, 10, 20].map((n) => `select * from orders order by created_at desc limit ${n}`),
  ...[1, 2, 3].map((n) => `select * from generate_series(1, ${n * 10}) g where g % ${n + 1} = 0`),
];

const EVERYDAY = [...HAND_WRITTEN_READS, ...FUNCTION_READS];

// ---------------------------------------------------------------------------------------------------------
// Bypass attempts: none may run unreviewed (each must be blocked or held).

const NBSP = "\u00a0";
const BOM = "\ufeff";
const LINE_SEPARATOR = "\u2028";
const READ_PASSWD = "pg_read_file('/etc/passwd')";

const BYPASSES: string[] = [
  // SQL run from text arguments.
  `SELECT ts_rewrite('a'::tsquery, $q$SELECT 'a'::tsquery, encode(convert_to(${READ_PASSWD},'UTF8'),'hex')::tsquery$q$)`,
  `SELECT ts_rewrite('a'::tsquery, $q$SELECT 'a'::tsquery, set_config('default_transaction_read_only','off',false)::tsquery$q$)`,
  "SELECT ts_rewrite('a'::tsquery, 'SELECT ''a''::tsquery, ''b''::tsquery FROM payroll')",
  "SELECT ts_rewrite('a'::tsquery, 'SELECT ''a''::tsquery, employee::tsquery FROM payroll_view')",
  "SELECT ts_rewrite('a'::tsquery, 'SELECT ' || '''a''::tsquery, ''b''::tsquery')",
  "SELECT ts_rewrite('a'::tsquery, (SELECT 'SELECT ''a''::tsquery, ''b''::tsquery'))",
  "SELECT ts_rewrite('a'::tsquery, concat('SELECT ', '1'))",
  "SELECT ts_stat('SELECT to_tsvector(employee) FROM payroll')",
  "SELECT ts_stat('SELECT to_tsvector(employee) FROM payroll_by_dept, payroll')",
  "SELECT ts_stat(lower('SELECT doc FROM products'))",
  "SELECT ts_stat('SELECT doc FROM products, purge_orders()')",
  "SELECT query_to_xml('SELECT * FROM payroll', true, false, '')",
  "SELECT query_to_xmlschema('SELECT * FROM payroll', true, false, '')",
  "SELECT query_to_xml_and_xmlschema('SELECT * FROM payroll', true, false, '')",
  "SELECT query_to_xml('SELECT pg_stat_reset()', true, false, '')",
  `SELECT query_to_xml('SELECT ${READ_PASSWD.replaceAll("'", "''")}', true, false, '')`,
  "SELECT query_to_xml('DELETE FROM order_items RETURNING 1', true, false, '')",
  "SELECT query_to_xml(query => 'SELECT 1', nulls => true, tableforest => false, targetns => '')",
  "SELECT query_to_xml($$SELECT query_to_xml('SELECT * FROM payroll', true, false, '')$$, true, false, '')",
  "SELECT query_to_xml('SELECT set_config(''transaction_read_only'', ''off'', true)', true, false, '')",
  "SELECT query_to_xml('SELECT 1; SELECT * FROM payroll', true, false, '')",
  "SELECT pg_catalog.query_to_xml(chr(83) || 'ELECT 1', true, false, '')",
  // Side-effect built-ins, by family.
  "SELECT pg_stat_reset()",
  "SELECT pg_stat_reset_shared('bgwriter')",
  "SELECT pg_stat_reset_single_table_counters('orders'::regclass)",
  "SELECT pg_stat_reset_slru(NULL)",
  "SELECT pg_import_system_collations('public')",
  "SELECT pg_replication_origin_create('x')",
  "SELECT pg_replication_origin_drop('x')",
  "SELECT pg_logical_emit_message(false, 'x', 'y')",
  "SELECT pg_create_physical_replication_slot('slot_x')",
  "SELECT pg_create_logical_replication_slot('slot_y', 'test_decoding')",
  `SELECT ${READ_PASSWD}`,
  "SELECT pg_read_binary_file('/etc/passwd')",
  "SELECT pg_ls_dir('.')",
  "SELECT * FROM pg_ls_waldir()",
  "SELECT pg_ls_logdir()",
  "SELECT pg_stat_file('postgresql.conf')",
  "SELECT pg_current_logfile()",
  "SELECT lo_import('/etc/passwd')",
  "SELECT lo_export(1, '/tmp/x')",
  "SELECT lo_create(0)",
  "SELECT lo_from_bytea(0, 'x')",
  "SELECT lo_unlink(1)",
  "SELECT lo_get(1)",
  "SELECT pg_terminate_backend(pg_backend_pid())",
  "SELECT pg_cancel_backend(1)",
  "SELECT pg_log_backend_memory_contexts(pg_backend_pid())",
  "SELECT pg_reload_conf()",
  "SELECT pg_rotate_logfile()",
  "SELECT pg_switch_wal()",
  "SELECT pg_create_restore_point('x')",
  "SELECT pg_advisory_lock(42)",
  "SELECT pg_try_advisory_lock(42)",
  "SELECT pg_advisory_xact_lock(42)",
  "SELECT pg_notify('chan', 'x')",
  "SELECT nextval('events_id_seq')",
  "SELECT setval('events_id_seq', 1)",
  "SELECT brin_summarize_new_values('orders_pkey'::regclass)",
  "SELECT gin_clean_pending_list('orders_pkey'::regclass)",
  "SELECT * FROM pg_config()",
  "SELECT * FROM pg_control_system()",
  "SELECT * FROM pg_stat_get_activity(NULL)",
  "SELECT pg_stat_get_backend_activity(1)",
  "SELECT binary_upgrade_set_next_pg_type_oid(1)",
  // System views over files, secrets and other sessions.
  "SELECT * FROM pg_file_settings",
  "SELECT * FROM pg_hba_file_rules",
  "SELECT * FROM pg_ident_file_mappings",
  "SELECT * FROM pg_catalog.pg_config",
  "SELECT rolname, rolpassword FROM pg_authid",
  "SELECT * FROM pg_authid",
  "SELECT a FROM pg_authid a",
  "SELECT passwd FROM pg_shadow",
  "SELECT * FROM pg_user_mappings",
  "SELECT * FROM pg_user_mapping",
  "SELECT query FROM pg_stat_activity",
  "SELECT * FROM pg_stat_replication",
  "SELECT * FROM pg_stats",
  "SELECT * FROM pg_statistic",
  "SELECT * FROM information_schema.user_mapping_options",
  "SELECT * FROM pg_largeobject",
  // Tables a rule denies, through views, functions that take a table by name, and odd whitespace.
  "SELECT * FROM payroll",
  "SELECT * FROM public.payroll",
  'SELECT * FROM "public"."payroll"',
  "SELECT * FROM payroll_view",
  "SELECT * FROM payroll_by_dept",
  "SELECT * FROM payroll_mv",
  "SELECT * FROM hr.people",
  "SELECT * FROM sneaky_payroll",
  "WITH p AS (SELECT * FROM payroll) SELECT * FROM p",
  "SELECT (SELECT max(salary) FROM payroll)",
  "SELECT table_to_xml('payroll', true, false, '')",
  "SELECT table_to_xml('public.payroll', true, false, '')",
  `SELECT table_to_xml('"payroll"', true, false, '')`,
  "SELECT table_to_xml('PAYROLL', true, false, '')",
  "SELECT table_to_xml('payroll_view', true, false, '')",
  "SELECT table_to_xmlschema('payroll', true, false, '')",
  "SELECT table_to_xml_and_xmlschema('payroll', true, false, '')",
  "SELECT table_to_xml(c.oid::regclass, true, false, '') FROM pg_class c WHERE relname = 'payroll'",
  "SELECT schema_to_xml('public', true, false, '')",
  "SELECT schema_to_xml('hr', true, false, '')",
  "SELECT database_to_xml(true, false, '')",
  "SELECT database_to_xmlschema(true, false, '')",
  `SELECT * FROM payroll${NBSP}`,
  `SELECT * FROM payroll${BOM}`,
  `SELECT * FROM payroll${LINE_SEPARATOR}`,
  `SELECT * FROM payroll${NBSP};`,
  `${BOM}SELECT * FROM payroll`,
  `SELECT * FROM${NBSP}payroll`,
  `SELECT * FROM payroll_view${NBSP}`,
  // Quoting, schemas and operators.
  `SELECT "PG_CATALOG"."pg_read_file"('/etc/passwd')`,
  `SELECT pg_catalog.pg_read_file('/etc/passwd')`,
  `SELECT "pg_read_file"('/etc/passwd')`,
  `SELECT PG_READ_FILE('/etc/passwd')`,
  `SELECT 1 WHERE 1 OPERATOR(pg_catalog.=) length(${READ_PASSWD})`,
  "SELECT 1 OPERATOR(public.===) 1",
  "SELECT 1 === 1",
  "SELECT * FROM orders WHERE id === 1",
  // The read-only safety net.
  "SET default_transaction_read_only = off",
  "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
  "SET transaction_read_only = 0",
  "SET default_transaction_read_only TO 'of'",
  "BEGIN READ WRITE",
  "START TRANSACTION READ WRITE",
  "SELECT set_config('default_transaction_read_only', 'off', false)",
  "SELECT set_config('transaction_read_only', 'off', true)",
  "SELECT set_config(name, 'off', false) FROM (VALUES ('default_transaction_read_only')) v(name)",
  "SELECT pg_catalog.set_config('default_transaction_read_only', 'false', false)",
  // Functions the target's catalog knows to write, or to run with another's privileges.
  "SELECT purge_orders()",
  "SELECT public.purge_orders()",
  "SELECT * FROM purge_orders()",
  "SELECT * FROM purging",
  "SELECT definer_read()",
  "SELECT add_one(1) FROM orders WHERE purge_orders() IS NULL",
  "WITH x AS (SELECT purge_orders()) SELECT * FROM x",
  "PREPARE p AS SELECT purge_orders(); EXECUTE p",
  "SELECT * FROM orders, LATERAL (SELECT purge_orders()) z",
  "SELECT no_such_function()",
  "EXPLAIN ANALYZE SELECT purge_orders()",
  // More relatives: escapes, aliases, cursors, COPY, EXPLAIN and search_path.
  "SELECT v.salary FROM payroll_view v WHERE v.salary > 0",
  "SELECT salary FROM (TABLE payroll) p",
  "COPY payroll TO STDOUT",
  "COPY (SELECT * FROM payroll_view) TO STDOUT",
  "EXPLAIN ANALYZE SELECT * FROM payroll",
  "BEGIN; DECLARE c CURSOR FOR SELECT * FROM payroll_by_dept; FETCH ALL FROM c; COMMIT",
  "SELECT xmlagg(table_to_xml('payroll', true, false, ''))",
  "SELECT pg_catalog.ts_stat('SELECT to_tsvector(employee) FROM payroll')",
  `SELECT * FROM ts_stat($$SELECT to_tsvector(employee) FROM "public"."payroll"$$)`,
  "SELECT query_to_xml(E'SELECT * FROM pay\\x72oll', true, false, '')",
  "SELECT query_to_xml(U&'SELECT * FROM pay\\0072oll', true, false, '')",
  "SET search_path = hr, public; SELECT * FROM people",
  "SELECT 1 AS n FROM orders ORDER BY id USING ===",
  "SELECT lo_export(lo_from_bytea(0, 'x'), '/tmp/y')",
  `SELECT "pg_catalog"."set_config"('default_transaction_read_only', 'off', false)`,
  "SELECT current_setting('work_mem'), set_config('transaction_read_only', 'of', true)",
  // Table rules see through functions in SQL too.
  "SELECT * FROM salaries()",
  "SELECT payroll_total()",
  "SELECT query_to_xml('SELECT payroll_total()', true, false, '')",
];

describe("guardrails against a determined analyst", () => {
  it(`keeps ${EVERYDAY.length} everyday analyst queries reads that run`, async () => {
    expect(EVERYDAY.length).toBeGreaterThanOrEqual(300);
    const overBlocked: string[] = [];
    for (const input of EVERYDAY) {
      const outcome = await run(input);
      const isRead = outcome.decision.class === "read";
      if (outcome.status !== "done" || !isRead) {
        const why = "reasons" in outcome ? outcome.reasons.map((r) => r.message).join("; ") : "";
        const error = outcome.status === "failed" ? outcome.error.message : "";
        overBlocked.push(`${input} -> ${outcome.status} ${outcome.decision.class} ${why} ${error}`);
      }
    }
    expect(overBlocked).toEqual([]);
  });

  it(`runs none of ${BYPASSES.length} bypass attempts unreviewed`, async () => {
    expect(BYPASSES.length).toBeGreaterThanOrEqual(100);
    const before = await targetCount("select count(*) as n from order_items");
    const ran: string[] = [];
    for (const input of BYPASSES) {
      const outcome = await run(input);
      // "failed" means the target refused what it was sent (e.g. a table named payroll followed by U+00A0 does
      // not exist there either): nothing was read or changed.
      if (outcome.status === "done") ran.push(input);
    }
    expect(ran).toEqual([]);
    expect(await targetCount("select count(*) as n from order_items")).toBe(before);
  });

  it(`runs none of the ${BYPASSES.length} bypass attempts unreviewed when each is sent again (its classification remembered)`, async () => {
    const { classifyStats } = await import("@/server/policy");
    const before = await targetCount("select count(*) as n from order_items");
    const ran: string[] = [];
    let remembered = 0;
    // A text is remembered from its second time, and answered from the memory from its third. Each text is sent
    // its three times in a row: the memory lasts as long as the catalog answers it was made from (30 s), which
    // a round of every attempt can outlast on a loaded machine.
    for (const input of BYPASSES) {
      for (let time = 0; time < 3; time++) {
        const hits = classifyStats.remembered;
        if ((await run(input)).status === "done") ran.push(input);
        if (time === 2) remembered += classifyStats.remembered - hits;
      }
    }
    expect(ran).toEqual([]);
    // The memory was in play: the last round was answered from it (all but texts refused before classifying).
    expect(remembered).toBeGreaterThanOrEqual(BYPASSES.length * 0.9);
    expect(await targetCount("select count(*) as n from order_items")).toBe(before);
  });

  it("decides a remembered text for each caller by their own groups, and by a rule change at once", async () => {
    const { createGroup, createServiceAccount, loadPrincipal } = await import("@/server/auth");
    const { classifyStats, createRule, deleteRule } = await import("@/server/policy");
    const { runSql } = await import("@/server/pipeline");
    await createGroup(actor, { name: "no-products" });
    const account = await createServiceAccount(actor, {
      name: "kept-out-bot",
      groups: ["analysts", "no-products"],
    });
    const keptOut = (await loadPrincipal(account.id, "token"))!;
    const runAs = (principal: Principal) =>
      runSql({
        principal,
        connectionName: "shop",
        input: "select name from products where id = 3",
        channel: "api",
      });
    const id = await createRule(actor, {
      name: "No products for some",
      groups: ["no-products"],
      tables: ["products"],
      action: "deny",
    });
    try {
      const remembered = classifyStats.remembered;
      for (let i = 0; i < 3; i++) expect((await runAs(analyst)).status).toBe("done");
      expect(classifyStats.remembered).toBeGreaterThan(remembered);
      // The same text, remembered, for someone the rule names: refused.
      expect((await runAs(keptOut)).status).toBe("blocked");
    } finally {
      await deleteRule(actor, id);
    }
    // The rule is gone: the text it refused runs at once for them.
    expect((await runAs(keptOut)).status).toBe("done");
  });

  it("says in the reasons that a table came through a view", async () => {
    const { checkSql } = await import("@/server/pipeline");
    const checked = await checkSql(analyst, "shop", "select * from payroll_by_dept");
    expect(checked.decision).toBe("deny");
    const [statement] = checked.statements;
    expect(statement?.tables).toEqual(["payroll_by_dept", "payroll_view", "payroll"]);
    expect(statement?.reasons).toEqual(
      expect.arrayContaining([
        "reads payroll_view through view public.payroll_by_dept",
        "reads payroll through view public.payroll_view",
        "the target's catalog was consulted about the functions, operators and views it names (nothing was run)",
      ]),
    );
  });

  it("sends the target the exact bytes it classified: a name followed by U+00A0 or U+FEFF is another table there", async () => {
    for (const input of [`SELECT * FROM payroll${NBSP}`, `SELECT * FROM payroll${BOM}`]) {
      const outcome = await run(input);
      expect(outcome.status, input).toBe("failed");
      if (outcome.status === "failed") expect(outcome.error.sqlState).toBe("42P01");
    }
  });

  it("asks the catalog again after the gateway runs DDL on the connection", async () => {
    const { createRule, deleteRule } = await import("@/server/policy");
    const id = await createRule(actor, { name: "Analysts define", classes: ["ddl"], action: "allow" });
    try {
      expect(
        (await run("create function tally(int) returns int immutable language sql as $$ select $1 $$"))
          .status,
      ).toBe("done");
      expect((await run("select tally(1)")).status).toBe("done");
      const redefined = await run(
        "create or replace function tally(int) returns int volatile language sql as $$ select $1 $$",
      );
      expect(redefined.status).toBe("done");
      const after = await run("select tally(1)");
      expect(after.status).toBe("pending_review");
      expect(after.decision.class).toBe("write");
    } finally {
      await deleteRule(actor, id);
    }
  });

  it("refuses a remembered text at once when a view it reads now reads a denied table and the gateway runs DDL", async () => {
    // A read stays a read after the view changes, so the read-only transaction cannot catch a stale classification:
    // only classifying with the new definition refuses it. The view is changed on the target directly (a statement
    // naming payroll is refused through the gateway); any DDL through the gateway makes it forget the catalog.
    const { classifyStats, createRule, deleteRule } = await import("@/server/policy");
    const owner = postgres(targetUrl, { max: 1, onnotice: () => {} });
    const id = await createRule(actor, { name: "Analysts define tables", classes: ["ddl"], action: "allow" });
    try {
      await owner.unsafe("create view memo_names as select 'nobody'::text as employee");
      const remembered = classifyStats.remembered;
      for (let i = 0; i < 3; i++) expect((await run("select employee from memo_names")).status).toBe("done");
      expect(classifyStats.remembered).toBeGreaterThan(remembered);
      await owner.unsafe("create or replace view memo_names as select employee from payroll");
      expect((await run("create table memo_marker (n int)")).status).toBe("done");
      const after = await run("select employee from memo_names");
      expect(after.status).toBe("blocked");
      expect(after.decision.reasons.map((r) => r.message)).toContain("payroll is not for analysts");
    } finally {
      await deleteRule(actor, id);
      await owner.unsafe("drop view if exists memo_names; drop table if exists memo_marker");
      await owner.end();
    }
  });

  it("lets a rule that allows one function by name run it, but not a view's other functions with it", async () => {
    const { createRule, deleteRule } = await import("@/server/policy");
    const id = await createRule(actor, {
      name: "Analysts may call definer_read",
      functions: ["definer_read"],
      action: "allow",
    });
    try {
      expect((await run("SELECT definer_read()")).status).toBe("done");
      const before = await targetCount("select count(*) as n from order_items");
      expect((await run("SELECT definer_read() FROM purging")).status).toBe("pending_review");
      expect(await targetCount("select count(*) as n from order_items")).toBe(before);
    } finally {
      await deleteRule(actor, id);
    }
  });

  it("refuses with a clear reason when the target's catalog cannot be read (down, or no permission)", async () => {
    const { createConnection } = await import("@/server/connections");
    const { getFreePort } = await import("@/test/harness/free-port");
    await createConnection(actor, {
      kind: "postgres",
      name: "gone",
      host: "127.0.0.1",
      port: await getFreePort(),
      database: "shop",
      username: gateway.pg.user,
      password: gateway.pg.password,
      groups: ["analysts"],
    });
    const admin = postgres(gateway.pg.url, { max: 1, onnotice: () => {} });
    await admin.unsafe("create database locked");
    await admin.unsafe("create role limited login password 'limited-pw'");
    await admin.end();
    const locked = postgres(gateway.pg.url.replace(/\/[^/]*$/, "/locked"), { max: 1, onnotice: () => {} });
    await locked.unsafe("revoke select on pg_catalog.pg_class from public; create table t (n int)");
    await locked.end();
    await createConnection(actor, {
      kind: "postgres",
      name: "locked",
      host: gateway.pg.host,
      port: gateway.pg.port,
      database: "locked",
      username: "limited",
      password: "limited-pw",
      groups: ["analysts"],
    });
    const { runSql } = await import("@/server/pipeline");
    for (const connectionName of ["gone", "locked"]) {
      const outcome = await runSql({
        principal: analyst,
        connectionName,
        input: "select * from t",
        channel: "api",
      });
      expect(outcome.status, connectionName).toBe("blocked");
      if (outcome.status !== "blocked") continue;
      expect(outcome.reasons[0]?.message).toMatch(
        /^the target's catalog could not be read.*nothing runs \(fail closed\)$/,
      );
    }
  });
});
