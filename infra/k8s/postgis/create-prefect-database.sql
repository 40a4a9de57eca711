-- The postgis image creates the ODC database (POSTGRES_DB); the Prefect server gets its own.
CREATE DATABASE prefect;
