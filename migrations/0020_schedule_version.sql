-- A counter per tenant that grows, in the same transaction, with every change of the rules a
-- hold reads beyond the tenant's row: services (buffers, daily caps), resources (daily caps),
-- resource_hours and schedule_exceptions. A hold reads the rules with the schedule before its
-- locks and only this counter under them: when it has not moved, the rules read before still
-- hold, and the rest is not read again inside the locked section.
ALTER TABLE tenants ADD COLUMN schedule_version bigint NOT NULL DEFAULT 0;

CREATE FUNCTION bump_schedule_version() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    touched uuid[];
BEGIN
    IF TG_TABLE_NAME = 'resource_hours' THEN
        SELECT array_agg(r.tenant_id) INTO touched FROM resources r
         WHERE r.id IN (CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.resource_id END,
                        CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.resource_id END);
    ELSIF TG_OP = 'INSERT' THEN
        touched := ARRAY[NEW.tenant_id];
    ELSIF TG_OP = 'DELETE' THEN
        touched := ARRAY[OLD.tenant_id];
    ELSE
        touched := ARRAY[NEW.tenant_id, OLD.tenant_id];
    END IF;
    UPDATE tenants SET schedule_version = schedule_version + 1 WHERE id = ANY(touched);
    RETURN NULL;
END
$$;

CREATE TRIGGER services_schedule_version AFTER INSERT OR UPDATE OR DELETE ON services
    FOR EACH ROW EXECUTE FUNCTION bump_schedule_version();
CREATE TRIGGER resources_schedule_version AFTER INSERT OR UPDATE OR DELETE ON resources
    FOR EACH ROW EXECUTE FUNCTION bump_schedule_version();
CREATE TRIGGER resource_hours_schedule_version AFTER INSERT OR UPDATE OR DELETE ON resource_hours
    FOR EACH ROW EXECUTE FUNCTION bump_schedule_version();
CREATE TRIGGER schedule_exceptions_schedule_version AFTER INSERT OR UPDATE OR DELETE
    ON schedule_exceptions
    FOR EACH ROW EXECUTE FUNCTION bump_schedule_version();
