-- One PostgreSQL server, one database and one role per service: each service
-- owns its data and reaches no other service's database.
CREATE ROLE partnership LOGIN PASSWORD 'partnership';
CREATE DATABASE partnership OWNER partnership;
CREATE ROLE customer LOGIN PASSWORD 'customer';
CREATE DATABASE customer OWNER customer;
CREATE ROLE subscription LOGIN PASSWORD 'subscription';
CREATE DATABASE subscription OWNER subscription;
CREATE ROLE notification LOGIN PASSWORD 'notification';
CREATE DATABASE notification OWNER notification;
