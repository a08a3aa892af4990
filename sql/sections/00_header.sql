/*
 * obs: the observability store for data pipelines.
 *
 * This script is built by the Makefile from the files in sql/sections/, in name
 * order; edit the sections, not the built obs--<version>.sql.  Every schema
 * change also goes into the upgrade script from the previous version.
 */

\echo Use "CREATE EXTENSION obs" to load this file. \quit

