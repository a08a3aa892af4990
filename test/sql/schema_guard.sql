-- A schema obs made before CREATE EXTENSION by a role that is not a
-- superuser: the install script would bind that role's operators into
-- obs's BEGIN ATOMIC functions, which then run as their caller.  The
-- script refuses such a schema (42501), on install and on upgrade.
\ir test/setup.sql
SET client_min_messages = warning;
DROP DATABASE IF EXISTS obs_guard_victim;
DROP ROLE IF EXISTS obs_guard_mallory;
RESET client_min_messages;
CREATE ROLE obs_guard_mallory LOGIN;
CREATE DATABASE obs_guard_victim;
GRANT CREATE ON DATABASE obs_guard_victim TO obs_guard_mallory;
\c obs_guard_victim obs_guard_mallory
CREATE SCHEMA obs;
CREATE FUNCTION obs.evil_div(float8, numeric) RETURNS float8 LANGUAGE sql AS 'SELECT 42::float8';
CREATE OPERATOR obs./ (leftarg = float8, rightarg = numeric, function = obs.evil_div);
\c obs_guard_victim postgres
\set VERBOSITY default
-- refused while mallory owns the schema
CREATE EXTENSION obs;
-- refused while mallory owns an object in it
ALTER SCHEMA obs OWNER TO postgres;
CREATE EXTENSION obs;
-- refused while mallory may create objects in it
DROP OPERATOR obs./ (float8, numeric);
DROP FUNCTION obs.evil_div(float8, numeric);
GRANT CREATE ON SCHEMA obs TO obs_guard_mallory;
CREATE EXTENSION obs;
REVOKE CREATE ON SCHEMA obs FROM obs_guard_mallory;
GRANT CREATE ON SCHEMA obs TO PUBLIC;
CREATE EXTENSION obs;
REVOKE CREATE ON SCHEMA obs FROM PUBLIC;
-- an empty schema obs a superuser owns is used
CREATE EXTENSION obs;
SELECT obs._dash_num(12345678::float8);
-- the upgrade from 0.1.0 is refused the same way
DROP EXTENSION obs;
DROP SCHEMA obs;
CREATE EXTENSION obs VERSION '0.1.0';
GRANT USAGE, CREATE ON SCHEMA obs TO obs_guard_mallory;
\c obs_guard_victim obs_guard_mallory
CREATE FUNCTION obs.evil_div(float8, numeric) RETURNS float8 LANGUAGE sql AS 'SELECT 42::float8';
CREATE OPERATOR obs./ (leftarg = float8, rightarg = numeric, function = obs.evil_div);
\c obs_guard_victim postgres
ALTER EXTENSION obs UPDATE TO '0.2.0';
SELECT extversion FROM pg_extension WHERE extname = 'obs';
REVOKE USAGE, CREATE ON SCHEMA obs FROM obs_guard_mallory;
ALTER EXTENSION obs UPDATE TO '0.2.0';
DROP OPERATOR obs./ (float8, numeric);
DROP FUNCTION obs.evil_div(float8, numeric);
ALTER EXTENSION obs UPDATE TO '0.2.0';
SELECT extversion FROM pg_extension WHERE extname = 'obs';
SELECT obs._dash_num(12345678::float8);
\c contrib_regression postgres
DROP DATABASE obs_guard_victim;
DROP ROLE obs_guard_mallory;
