package store

// Migrations is the embedded migrations folder, for the migration tests.
var Migrations = migrations
