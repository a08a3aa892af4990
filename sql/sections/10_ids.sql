/* ------------------------------------------------------------------------
 * Section: identifiers (W3C trace context sized ids, stored as raw bytes)
 * ------------------------------------------------------------------------ */

CREATE TYPE @extschema@.trace_id;
CREATE FUNCTION @extschema@.trace_id_in(cstring) RETURNS @extschema@.trace_id
    AS 'MODULE_PATHNAME', 'obs_trace_id_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.trace_id_out(@extschema@.trace_id) RETURNS cstring
    AS 'MODULE_PATHNAME', 'obs_trace_id_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.trace_id_recv(internal) RETURNS @extschema@.trace_id
    AS 'MODULE_PATHNAME', 'obs_trace_id_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.trace_id_send(@extschema@.trace_id) RETURNS bytea
    AS 'MODULE_PATHNAME', 'obs_trace_id_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE @extschema@.trace_id (
    INPUT = @extschema@.trace_id_in, OUTPUT = @extschema@.trace_id_out,
    RECEIVE = @extschema@.trace_id_recv, SEND = @extschema@.trace_id_send,
    INTERNALLENGTH = 16, ALIGNMENT = char, STORAGE = plain
);
COMMENT ON TYPE @extschema@.trace_id IS
    'W3C trace context trace id: 16 bytes, shown as 32 lowercase hex digits';

CREATE TYPE @extschema@.span_id;
CREATE FUNCTION @extschema@.span_id_in(cstring) RETURNS @extschema@.span_id
    AS 'MODULE_PATHNAME', 'obs_span_id_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.span_id_out(@extschema@.span_id) RETURNS cstring
    AS 'MODULE_PATHNAME', 'obs_span_id_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.span_id_recv(internal) RETURNS @extschema@.span_id
    AS 'MODULE_PATHNAME', 'obs_span_id_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.span_id_send(@extschema@.span_id) RETURNS bytea
    AS 'MODULE_PATHNAME', 'obs_span_id_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE @extschema@.span_id (
    INPUT = @extschema@.span_id_in, OUTPUT = @extschema@.span_id_out,
    RECEIVE = @extschema@.span_id_recv, SEND = @extschema@.span_id_send,
    INTERNALLENGTH = 8, ALIGNMENT = char, STORAGE = plain
);
COMMENT ON TYPE @extschema@.span_id IS
    'W3C trace context span id: 8 bytes, shown as 16 lowercase hex digits';

/* comparison support: both types compare as unsigned byte strings */
CREATE FUNCTION @extschema@.trace_id_cmp(@extschema@.trace_id, @extschema@.trace_id) RETURNS int
    AS 'MODULE_PATHNAME', 'obs_trace_id_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.trace_id_eq(@extschema@.trace_id, @extschema@.trace_id) RETURNS bool
    AS 'MODULE_PATHNAME', 'obs_trace_id_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.trace_id_ne(@extschema@.trace_id, @extschema@.trace_id) RETURNS bool
    AS 'MODULE_PATHNAME', 'obs_trace_id_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.trace_id_lt(@extschema@.trace_id, @extschema@.trace_id) RETURNS bool
    AS 'MODULE_PATHNAME', 'obs_trace_id_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.trace_id_le(@extschema@.trace_id, @extschema@.trace_id) RETURNS bool
    AS 'MODULE_PATHNAME', 'obs_trace_id_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.trace_id_gt(@extschema@.trace_id, @extschema@.trace_id) RETURNS bool
    AS 'MODULE_PATHNAME', 'obs_trace_id_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.trace_id_ge(@extschema@.trace_id, @extschema@.trace_id) RETURNS bool
    AS 'MODULE_PATHNAME', 'obs_trace_id_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.trace_id_hash(@extschema@.trace_id) RETURNS int
    AS 'MODULE_PATHNAME', 'obs_trace_id_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR pg_catalog.= (LEFTARG = @extschema@.trace_id, RIGHTARG = @extschema@.trace_id,
    PROCEDURE = @extschema@.trace_id_eq, COMMUTATOR = OPERATOR(pg_catalog.=),
    NEGATOR = OPERATOR(pg_catalog.<>), RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR pg_catalog.<> (LEFTARG = @extschema@.trace_id, RIGHTARG = @extschema@.trace_id,
    PROCEDURE = @extschema@.trace_id_ne, COMMUTATOR = OPERATOR(pg_catalog.<>),
    NEGATOR = OPERATOR(pg_catalog.=), RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR pg_catalog.< (LEFTARG = @extschema@.trace_id, RIGHTARG = @extschema@.trace_id,
    PROCEDURE = @extschema@.trace_id_lt, COMMUTATOR = OPERATOR(pg_catalog.>),
    NEGATOR = OPERATOR(pg_catalog.>=), RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR pg_catalog.<= (LEFTARG = @extschema@.trace_id, RIGHTARG = @extschema@.trace_id,
    PROCEDURE = @extschema@.trace_id_le, COMMUTATOR = OPERATOR(pg_catalog.>=),
    NEGATOR = OPERATOR(pg_catalog.>), RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR pg_catalog.> (LEFTARG = @extschema@.trace_id, RIGHTARG = @extschema@.trace_id,
    PROCEDURE = @extschema@.trace_id_gt, COMMUTATOR = OPERATOR(pg_catalog.<),
    NEGATOR = OPERATOR(pg_catalog.<=), RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR pg_catalog.>= (LEFTARG = @extschema@.trace_id, RIGHTARG = @extschema@.trace_id,
    PROCEDURE = @extschema@.trace_id_ge, COMMUTATOR = OPERATOR(pg_catalog.<=),
    NEGATOR = OPERATOR(pg_catalog.<), RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR CLASS @extschema@.trace_id_ops DEFAULT FOR TYPE @extschema@.trace_id USING btree AS
    OPERATOR 1 pg_catalog.<, OPERATOR 2 pg_catalog.<=, OPERATOR 3 pg_catalog.=,
    OPERATOR 4 pg_catalog.>=, OPERATOR 5 pg_catalog.>,
    FUNCTION 1 @extschema@.trace_id_cmp(@extschema@.trace_id, @extschema@.trace_id);
CREATE OPERATOR CLASS @extschema@.trace_id_hash_ops DEFAULT FOR TYPE @extschema@.trace_id USING hash AS
    OPERATOR 1 pg_catalog.=,
    FUNCTION 1 @extschema@.trace_id_hash(@extschema@.trace_id);

CREATE FUNCTION @extschema@.span_id_cmp(@extschema@.span_id, @extschema@.span_id) RETURNS int
    AS 'MODULE_PATHNAME', 'obs_span_id_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.span_id_eq(@extschema@.span_id, @extschema@.span_id) RETURNS bool
    AS 'MODULE_PATHNAME', 'obs_span_id_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.span_id_ne(@extschema@.span_id, @extschema@.span_id) RETURNS bool
    AS 'MODULE_PATHNAME', 'obs_span_id_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.span_id_lt(@extschema@.span_id, @extschema@.span_id) RETURNS bool
    AS 'MODULE_PATHNAME', 'obs_span_id_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.span_id_le(@extschema@.span_id, @extschema@.span_id) RETURNS bool
    AS 'MODULE_PATHNAME', 'obs_span_id_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.span_id_gt(@extschema@.span_id, @extschema@.span_id) RETURNS bool
    AS 'MODULE_PATHNAME', 'obs_span_id_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.span_id_ge(@extschema@.span_id, @extschema@.span_id) RETURNS bool
    AS 'MODULE_PATHNAME', 'obs_span_id_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.span_id_hash(@extschema@.span_id) RETURNS int
    AS 'MODULE_PATHNAME', 'obs_span_id_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR pg_catalog.= (LEFTARG = @extschema@.span_id, RIGHTARG = @extschema@.span_id,
    PROCEDURE = @extschema@.span_id_eq, COMMUTATOR = OPERATOR(pg_catalog.=),
    NEGATOR = OPERATOR(pg_catalog.<>), RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR pg_catalog.<> (LEFTARG = @extschema@.span_id, RIGHTARG = @extschema@.span_id,
    PROCEDURE = @extschema@.span_id_ne, COMMUTATOR = OPERATOR(pg_catalog.<>),
    NEGATOR = OPERATOR(pg_catalog.=), RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR pg_catalog.< (LEFTARG = @extschema@.span_id, RIGHTARG = @extschema@.span_id,
    PROCEDURE = @extschema@.span_id_lt, COMMUTATOR = OPERATOR(pg_catalog.>),
    NEGATOR = OPERATOR(pg_catalog.>=), RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR pg_catalog.<= (LEFTARG = @extschema@.span_id, RIGHTARG = @extschema@.span_id,
    PROCEDURE = @extschema@.span_id_le, COMMUTATOR = OPERATOR(pg_catalog.>=),
    NEGATOR = OPERATOR(pg_catalog.>), RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR pg_catalog.> (LEFTARG = @extschema@.span_id, RIGHTARG = @extschema@.span_id,
    PROCEDURE = @extschema@.span_id_gt, COMMUTATOR = OPERATOR(pg_catalog.<),
    NEGATOR = OPERATOR(pg_catalog.<=), RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR pg_catalog.>= (LEFTARG = @extschema@.span_id, RIGHTARG = @extschema@.span_id,
    PROCEDURE = @extschema@.span_id_ge, COMMUTATOR = OPERATOR(pg_catalog.<=),
    NEGATOR = OPERATOR(pg_catalog.<), RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR CLASS @extschema@.span_id_ops DEFAULT FOR TYPE @extschema@.span_id USING btree AS
    OPERATOR 1 pg_catalog.<, OPERATOR 2 pg_catalog.<=, OPERATOR 3 pg_catalog.=,
    OPERATOR 4 pg_catalog.>=, OPERATOR 5 pg_catalog.>,
    FUNCTION 1 @extschema@.span_id_cmp(@extschema@.span_id, @extschema@.span_id);
CREATE OPERATOR CLASS @extschema@.span_id_hash_ops DEFAULT FOR TYPE @extschema@.span_id USING hash AS
    OPERATOR 1 pg_catalog.=,
    FUNCTION 1 @extschema@.span_id_hash(@extschema@.span_id);

CREATE FUNCTION @extschema@.new_trace_id() RETURNS @extschema@.trace_id
    AS 'MODULE_PATHNAME', 'obs_new_trace_id' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.new_trace_id() IS
    'a fresh random trace id from the server''s strong random source';
CREATE FUNCTION @extschema@.new_span_id() RETURNS @extschema@.span_id
    AS 'MODULE_PATHNAME', 'obs_new_span_id' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.new_span_id() IS
    'a fresh random span id from the server''s strong random source';

