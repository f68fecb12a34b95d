-- One schema and one login role per service. Each role owns its schema (so it runs its own migrations there)
-- and has no privilege on the other services' schemas, nor CREATE in public.
--
-- Run it as a superuser, connected to the application database, with these psql variables:
--   registration_role, registration_password, deal_tracking_role, deal_tracking_password,
--   notification_role, notification_password, console_role, console_password
-- e.g. psql -v ON_ERROR_STOP=1 -v registration_role=registration_svc -v registration_password=... -f init.sql
-- (initdb/10-citydeals-roles.sh does this in the postgres image; apply-init-sql.ts does it from TypeScript).
--
-- Re-running it is safe: it creates what is missing, resets passwords and takes back stray grants.
-- Roles are cluster-wide, schemas per database: one cluster can host several databases with distinct roles.
-- psql meta-commands (\gexec, \if) are deliberately absent, so the TypeScript runner can execute this file too.

BEGIN;

-- CREATE ROLE has no IF NOT EXISTS, and psql does not expand variables inside dollar quotes: the name comes in
-- as an argument instead. pg_temp keeps the helper out of every schema a service can see; OR REPLACE because it
-- lives as long as the session, which may apply this file twice.
CREATE OR REPLACE FUNCTION pg_temp.ensure_role(role_name text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = role_name) THEN
    EXECUTE format('CREATE ROLE %I', role_name);
  END IF;
END
$$;

SELECT pg_temp.ensure_role(:'registration_role');
SELECT pg_temp.ensure_role(:'deal_tracking_role');
SELECT pg_temp.ensure_role(:'notification_role');
SELECT pg_temp.ensure_role(:'console_role');

-- Services log in with the least a login role can have; ALTER (not CREATE) so a re-run also resets them.
ALTER ROLE :"registration_role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'registration_password';
ALTER ROLE :"deal_tracking_role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'deal_tracking_password';
ALTER ROLE :"notification_role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'notification_password';
ALTER ROLE :"console_role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'console_password';

-- Unqualified names then resolve to the service's own schema, never to public.
ALTER ROLE :"registration_role" SET search_path = registration;
ALTER ROLE :"deal_tracking_role" SET search_path = deal_tracking;
ALTER ROLE :"notification_role" SET search_path = notification;
ALTER ROLE :"console_role" SET search_path = console;

CREATE SCHEMA IF NOT EXISTS registration AUTHORIZATION :"registration_role";
CREATE SCHEMA IF NOT EXISTS deal_tracking AUTHORIZATION :"deal_tracking_role";
CREATE SCHEMA IF NOT EXISTS notification AUTHORIZATION :"notification_role";
CREATE SCHEMA IF NOT EXISTS console AUTHORIZATION :"console_role";

-- A schema that already existed (an earlier run with other role names) changes hands too.
ALTER SCHEMA registration OWNER TO :"registration_role";
ALTER SCHEMA deal_tracking OWNER TO :"deal_tracking_role";
ALTER SCHEMA notification OWNER TO :"notification_role";
ALTER SCHEMA console OWNER TO :"console_role";

-- New schemas grant nothing to PUBLIC; revoking anyway also takes back grants someone made by hand since,
-- so a re-run restores the isolation the tests prove. Without USAGE on a schema nothing inside it is
-- reachable, whatever the grants on its tables.
REVOKE ALL ON SCHEMA registration FROM PUBLIC, :"deal_tracking_role", :"notification_role", :"console_role";
REVOKE ALL ON SCHEMA deal_tracking FROM PUBLIC, :"registration_role", :"notification_role", :"console_role";
REVOKE ALL ON SCHEMA notification FROM PUBLIC, :"registration_role", :"deal_tracking_role", :"console_role";
REVOKE ALL ON SCHEMA console FROM PUBLIC, :"registration_role", :"deal_tracking_role", :"notification_role";

-- PostgreSQL 15 stopped granting CREATE on public to everyone; a database made from an older template may
-- still grant it.
REVOKE CREATE ON SCHEMA public FROM PUBLIC, :"registration_role", :"deal_tracking_role", :"notification_role",
  :"console_role";

COMMIT;
