-- Tollgate's database and its two roles, least privilege (README "Production"):
--   :migrate_role  owns the database and its schema; only `tollgate migrate` logs in with it (DDL).
--   :app_role      what `tollgate api` and `tollgate worker` log in with: SELECT, INSERT, UPDATE and
--                  DELETE on the tables, USAGE on the sequences, nothing else. Neither process
--                  changes the schema at run time; migrations are their own step.
-- Run by a superuser through psql with the variables database, migrate_role, migrate_password,
-- app_role and app_password set (deploy/postgres-init.sh passes them from the environment).
\set ON_ERROR_STOP on

CREATE ROLE :"migrate_role" LOGIN PASSWORD :'migrate_password';
CREATE ROLE :"app_role" LOGIN PASSWORD :'app_password';
CREATE DATABASE :"database" OWNER :"migrate_role";
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"database" TO :"app_role";

\connect :"database"
-- The schema is the migrate role's; other roles only use what is in it.
ALTER SCHEMA public OWNER TO :"migrate_role";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app_role";
-- Every table and sequence the migrations create, now or later, is open to the app for data only.
ALTER DEFAULT PRIVILEGES FOR ROLE :"migrate_role" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"migrate_role" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO :"app_role";
