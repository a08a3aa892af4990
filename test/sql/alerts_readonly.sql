-- evaluate_alert_rules() in a read-only transaction (as on a hot standby):
-- every rule's SELECT ... FOR UPDATE fails, so it refuses to run (25006)
-- rather than fail each rule with a WARNING and return as if all went well.
\ir test/setup.sql
SELECT rule_name FROM obs.add_alert_rule('ro_rule', 'ro_metric', 1, '>', '1 hour');
SELECT obs.record_metric('ro_metric', 5);
BEGIN READ ONLY;
SELECT pg_temp.err('SELECT obs.evaluate_alert_rules()');
ROLLBACK;
SET default_transaction_read_only = on;
SELECT pg_temp.err('SELECT obs.evaluate_alert_rules()');
RESET default_transaction_read_only;
-- read-write: the rule is evaluated
SELECT rule_name, metric_name, value FROM obs.evaluate_alert_rules();
SELECT rule_name, last_error IS NULL AS no_error FROM obs.alert_rules;
