/*-------------------------------------------------------------------------
 * parquet.h
 *	  obs's Parquet writer: schema, value appends, row groups, footer.
 *
 * The writer knows nothing of PostgreSQL types: callers describe each
 * column by its Parquet physical and logical type, then append one leaf
 * value (or a NULL) at a time with its definition and repetition levels,
 * and end each row with obs_pq_end_row().  Pages are encoded and
 * compressed as they fill; a row group's pages are held in memory until
 * the row group is full (by rows or bytes) and then streamed to the sink,
 * so memory is bounded by one row group whatever the size of the file.
 *
 * All memory lives in the writer's own context; compression-library state
 * is released by a reset callback on that context, so an ERROR anywhere
 * leaks nothing.  The sink may ereport(ERROR); the writer never calls it
 * from inside a compression library.
 *-------------------------------------------------------------------------
 */
#ifndef OBS_PARQUET_H
#define OBS_PARQUET_H

/* physical types, numbered as in parquet.thrift */
typedef enum ObsPqPhysical
{
	OBS_PQ_BOOLEAN = 0,
	OBS_PQ_INT32 = 1,
	OBS_PQ_INT64 = 2,
	OBS_PQ_FLOAT = 4,
	OBS_PQ_DOUBLE = 5,
	OBS_PQ_BYTE_ARRAY = 6,
	OBS_PQ_FIXED_LEN_BYTE_ARRAY = 7
} ObsPqPhysical;

/* the logical annotations obs writes */
typedef enum ObsPqLogical
{
	OBS_PQ_LT_NONE = 0,
	OBS_PQ_LT_STRING,			/* BYTE_ARRAY, UTF-8 */
	OBS_PQ_LT_JSON,				/* BYTE_ARRAY, UTF-8 JSON text */
	OBS_PQ_LT_INT,				/* INT32/INT64 with int_bits, signed */
	OBS_PQ_LT_DECIMAL,			/* INT32/INT64/FIXED_LEN_BYTE_ARRAY */
	OBS_PQ_LT_DATE,				/* INT32 days since 1970-01-01 */
	OBS_PQ_LT_TIME_MICROS,		/* INT64 microseconds since midnight */
	OBS_PQ_LT_TIMESTAMP_MICROS, /* INT64 microseconds since 1970 */
	OBS_PQ_LT_UUID				/* FIXED_LEN_BYTE_ARRAY(16) */
} ObsPqLogical;

typedef enum ObsPqCodec
{
	OBS_PQ_UNCOMPRESSED = 0,
	OBS_PQ_SNAPPY = 1,
	OBS_PQ_GZIP = 2,
	OBS_PQ_ZSTD = 6
} ObsPqCodec;

/*
 * One column of the file.  A list column is written with the standard
 * three-level structure
 *	 optional group <name> (LIST) { repeated group list { optional <leaf> element; } }
 * and its leaf has max definition level 3 and max repetition level 1;
 * a plain column is optional (max definition level 1) unless required.
 */
typedef struct ObsPqColumn
{
	const char *name;
	ObsPqPhysical physical;
	int			type_length;	/* FIXED_LEN_BYTE_ARRAY only */
	ObsPqLogical logical;
	int			int_bits;		/* OBS_PQ_LT_INT: 8, 16, 32 or 64 */
	int			precision;		/* OBS_PQ_LT_DECIMAL */
	int			scale;			/* OBS_PQ_LT_DECIMAL */
	bool		utc_adjusted;	/* TIME and TIMESTAMP */
	bool		is_list;
	bool		required;		/* plain columns only: never NULL */
} ObsPqColumn;

#define OBS_PQ_LEVEL_DEFAULT PG_INT32_MIN

typedef struct ObsPqOptions
{
	ObsPqCodec	codec;
	int			level;			/* codec level, or OBS_PQ_LEVEL_DEFAULT */
	int64		row_group_rows; /* close a row group at this many rows */
	int64		row_group_bytes;	/* ... or once this much is buffered */
	int			page_bytes;		/* target uncompressed data page size */
	int			dict_bytes;		/* dictionary size before PLAIN fallback */
	const char *created_by;
	int			n_kv;			/* footer key/value metadata */
	const char *const *kv_keys;
	const char *const *kv_values;
} ObsPqOptions;

/* receives the file's bytes in order; may ereport(ERROR) */
typedef void (*ObsPqSink) (void *arg, const char *data, size_t len);

typedef struct ObsPqWriter ObsPqWriter;

extern void obs_pq_default_options(ObsPqOptions *opts);
extern ObsPqWriter *obs_pq_writer_create(const ObsPqColumn *cols, int ncols,
										 const ObsPqOptions *opts,
										 ObsPqSink sink, void *sink_arg);

/*
 * Append one leaf entry to column col.  value points to an int32, int64,
 * float, double or bool for fixed-size physical types, to len bytes for
 * BYTE_ARRAY, to type_length bytes for FIXED_LEN_BYTE_ARRAY; it is ignored
 * (may be NULL) when def is below the column's max definition level.
 */
extern void obs_pq_append(ObsPqWriter *w, int col, int def, int rep,
						  const void *value, uint32 len);
/* convenience: a NULL at the column's top level */
extern void obs_pq_append_null(ObsPqWriter *w, int col);
/* every column has its entries for this row; may close pages and a row group */
extern void obs_pq_end_row(ObsPqWriter *w);
extern void obs_pq_flush_row_group(ObsPqWriter *w);
/* flush what is left, write the footer; returns the file's size */
extern uint64 obs_pq_finish(ObsPqWriter *w);
extern uint64 obs_pq_rows(ObsPqWriter *w);
/* release everything (also done when the parent context goes away) */
extern void obs_pq_writer_free(ObsPqWriter *w);

/* compress.c: compression level range of a codec, for option checks */
extern bool obs_pq_codec_level_range(ObsPqCodec codec, int *min, int *max);

#endif							/* OBS_PARQUET_H */
