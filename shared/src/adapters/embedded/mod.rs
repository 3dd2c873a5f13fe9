//! The embedded backend: redb for records and queues, a directory tree for
//! stock files. Durable: data survives a restart.
