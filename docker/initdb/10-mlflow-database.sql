-- Runs once, when the PostgreSQL volume is first initialised
-- (docker-entrypoint-initdb.d, as POSTGRES_USER, connected to POSTGRES_DB).
-- MLflow's tracking and model-registry tables live in their own database on
-- the same server; MLflow creates and migrates its tables itself on start.
-- On an existing volume run this by hand:
--   docker compose exec db psql -U frames -d frames -c 'CREATE DATABASE mlflow'
CREATE DATABASE mlflow;
