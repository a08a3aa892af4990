-- test/setup.sql: included by every regression test (\ir test/setup.sql).
-- A fresh obs in the test database, and err(q), which runs q and shows
-- "SQLSTATE: message [detail] {hint}" instead of failing.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS obs CASCADE;
CREATE EXTENSION obs;
RESET client_min_messages;
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text; h text;
BEGIN EXECUTE q; RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' [' || nullif(d, '') || ']', '')
        || coalesce(' {' || nullif(h, '') || '}', '');
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.err(text) TO PUBLIC;
