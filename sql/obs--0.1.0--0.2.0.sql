/*
 * obs 0.1.0 -> 0.2.0
 *
 * Every schema change of 0.2.0, in the order of sql/sections/.  The upgrade
 * test (test/suites/upgrade.sh) checks that a 0.1.0 database upgraded with
 * this script has exactly the objects of a fresh 0.2.0 install.
 */

\echo Use "ALTER EXTENSION obs UPDATE TO '0.2.0'" to load this file. \quit
