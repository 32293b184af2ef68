-- Runs once, when the postgres volume is first created (docker-entrypoint-initdb.d), as the
-- POSTGRES_USER (gatehouse), which owns both databases. POSTGRES_DB creates gatehouse_apim.
-- The two databases of a WSO2 deployment: WSO2_AM_DB (apim) and WSO2_SHARED_DB (shared).
CREATE DATABASE gatehouse_shared;
