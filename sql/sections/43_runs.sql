/* ------------------------------------------------------------------------
 * Section: pipeline runs API (src/runs.c)
 * ------------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.record_flow_execution(
    flow_name text, flow_run_id text, start_time timestamptz,
    end_time timestamptz DEFAULT NULL, status text DEFAULT 'Completed',
    num_tasks integer DEFAULT NULL, error text DEFAULT NULL, tags jsonb DEFAULT NULL)
RETURNS void AS 'MODULE_PATHNAME', 'obs_record_flow_execution' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.record_flow_execution(text, text, timestamptz, timestamptz, text, integer, text, jsonb) IS
    'insert or update the flow run flow_run_id';

CREATE FUNCTION @extschema@.record_task_execution(
    task_name text, flow_run_id text, start_time timestamptz,
    end_time timestamptz DEFAULT NULL, status text DEFAULT 'Completed',
    inputs_processed bigint DEFAULT NULL, outputs_produced bigint DEFAULT NULL,
    error text DEFAULT NULL, task_run_id text DEFAULT NULL, tags jsonb DEFAULT NULL)
RETURNS void AS 'MODULE_PATHNAME', 'obs_record_task_execution' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.record_task_execution(text, text, timestamptz, timestamptz, text, bigint, bigint, text, text, jsonb) IS
    'insert or update a task run (task_run_id defaults to flow_run_id:task_name:start_time in UTC)';

