/*-------------------------------------------------------------------------
 * pq_read.h
 *	  obs's Parquet reader: footer and schema (thrift_read.c), page
 *	  decoding and decompression (decode.c), column chunks and rows
 *	  (reader.c), COPY ... FROM ... (FORMAT parquet) (import.c) and
 *	  obs.restore_archive() (restore.c).
 *
 * Every length, count and offset a file gives is checked against the
 * bytes it actually has before it is used; a file that breaks a rule is
 * reported with SQLSTATE 22P04 (bad_copy_file_format).  The memory one
 * row group needs is counted and capped (OBS_PQ_READ_MEM_LIMIT).
 *-------------------------------------------------------------------------
 */
#ifndef OBS_PQ_READ_H
#define OBS_PQ_READ_H

#include "nodes/parsenodes.h"
#include "storage/fd.h"

/* the most one row group may hold while it is read: pages, levels, values */
#define OBS_PQ_READ_MEM_LIMIT	((int64) 1024 * 1024 * 1024)

/* SchemaElement.repetition_type */
#define PQ_REQUIRED 0
#define PQ_OPTIONAL 1
#define PQ_REPEATED 2

/* a leaf's meaning, from its logical type or legacy converted type */
typedef enum PqLogicalKind
{
	PQL_NONE = 0,				/* raw physical values (binary for byte arrays) */
	PQL_STRING,					/* UTF-8 text: STRING, ENUM, UTF8 */
	PQL_JSON,
	PQL_INT,					/* int_bits, int_signed */
	PQL_DECIMAL,				/* scale, precision */
	PQL_DATE,
	PQL_TIME,					/* unit, utc */
	PQL_TIMESTAMP,				/* unit, utc */
	PQL_UUID,
	PQL_UNSUPPORTED				/* INTERVAL, FLOAT16, BSON, ... */
} PqLogicalKind;

#define PQ_UNIT_MILLIS	1
#define PQ_UNIT_MICROS	2
#define PQ_UNIT_NANOS	3

typedef struct PqSchemaElem
{
	int			type;			/* physical type, or -1 for a group */
	int			type_length;
	int			repetition;		/* PQ_REQUIRED ... or -1 (root) */
	char	   *name;
	int			num_children;
	int			converted;		/* ConvertedType, or -1 */
	int			scale;
	int			precision;
	int			logical;		/* LogicalType union field id, or 0 */
	int			lt_unit;
	bool		lt_utc;
	int			lt_bits;
	bool		lt_signed;
	int			lt_scale;
	int			lt_precision;
} PqSchemaElem;

typedef struct PqColMeta
{
	int			type;
	int			codec;
	int64		num_values;
	int64		total_uncompressed;
	int64		total_compressed;
	int64		data_page_offset;
	int64		dict_page_offset;	/* -1 when absent */
	bool		has_meta;
	bool		external;		/* file_path set: data in another file */
} PqColMeta;

typedef struct PqRowGroup
{
	int64		num_rows;
	int			ncols;
	PqColMeta  *cols;
} PqRowGroup;

typedef struct PqFileMeta
{
	int			nschema;
	PqSchemaElem *schema;
	int64		num_rows;
	int			nrg;
	PqRowGroup *rgs;
	char	   *created_by;
} PqFileMeta;

/* page types and encodings, numbered as in parquet.thrift */
#define PQ_PAGE_DATA		0
#define PQ_PAGE_INDEX		1
#define PQ_PAGE_DICTIONARY	2
#define PQ_PAGE_DATA_V2		3

#define PQ_ENC_PLAIN				0
#define PQ_ENC_PLAIN_DICTIONARY		2
#define PQ_ENC_RLE					3
#define PQ_ENC_BIT_PACKED			4
#define PQ_ENC_DELTA_BINARY_PACKED	5
#define PQ_ENC_DELTA_LENGTH_BYTE_ARRAY 6
#define PQ_ENC_DELTA_BYTE_ARRAY		7
#define PQ_ENC_RLE_DICTIONARY		8
#define PQ_ENC_BYTE_STREAM_SPLIT	9

typedef struct PqPageHeader
{
	int			type;
	int32		uncompressed;
	int32		compressed;
	int32		num_values;
	int			encoding;
	/* v2 only */
	int32		num_nulls;
	int32		num_rows;
	int32		def_len;
	int32		rep_len;
	bool		is_compressed;
	bool		has_data;		/* a data or dictionary page header was seen */
} PqPageHeader;

/* one decoded value: a number, or bytes inside the row group's memory */
typedef struct PqVal
{
	int64		i;				/* ints, booleans; floats and doubles by bits */
	const uint8 *p;				/* BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY, INT96 */
	uint32		len;
} PqVal;

/* the memory a row group's reading holds, counted against a limit */
typedef struct PqReadBudget
{
	MemoryContext cxt;
	int64		used;
	int64		limit;
} PqReadBudget;

/* ERROR 22P04 with "invalid Parquet file" and a detail */
extern void obs_pq_bad_file(const char *fmt,...) pg_attribute_printf(1, 2) pg_attribute_noreturn();
extern void *obs_pq_read_alloc(PqReadBudget *b, size_t n);
extern void *obs_pq_read_alloc_array(PqReadBudget *b, int64 n, size_t size);

/* thrift_read.c */
extern void obs_pq_parse_footer(const uint8 *buf, size_t len, PqFileMeta *fm);
/* parses a page header at buf; returns its length */
extern size_t obs_pq_parse_page_header(const uint8 *buf, size_t len, PqPageHeader *ph);

/* decode.c */
extern void obs_pq_decompress(int codec, const uint8 *src, size_t srclen,
							  uint8 *dst, size_t dstlen);
extern const char *obs_pq_codec_name(int codec);
/* RLE/bit-packed hybrid: n values of bit_width bits, each <= maxval */
extern void obs_pq_rle_decode(const uint8 *p, size_t len, int bit_width,
							  int64 n, uint32 maxval, int16 *out16, uint32 *out32);
/*
 * n values of a physical type in an encoding, into out; dict (ndict
 * entries) for the dictionary encodings.  Byte arrays point into p or
 * into memory taken from budget.
 */
extern void obs_pq_decode_values(PqReadBudget *budget, int physical, int type_length,
								 int encoding, const uint8 *p, size_t len, int64 n,
								 const PqVal *dict, int64 ndict, PqVal *out);

/* reader.c */
typedef struct PqLeaf
{
	int			column;			/* column chunk index */
	int			schema_index;
	int			physical;
	int			type_length;
	PqLogicalKind kind;
	int			unit;
	bool		utc;
	int			int_bits;
	bool		int_signed;
	int			scale;
	int			precision;
	int			max_def;
	int			max_rep;
	int			d_top;			/* def >= d_top: the field is not NULL */
	int			d_rep;			/* lists: def >= d_rep: an element exists */
} PqLeaf;

typedef struct PqField
{
	char	   *name;			/* top-level name, UTF-8 */
	bool		is_list;
	const char *unsupported;	/* why the field cannot be read, or NULL */
	PqLeaf		leaf;
} PqField;

typedef struct PqColData
{
	int64		nlev;
	int16	   *defs;			/* NULL when max_def == 0 */
	int16	   *reps;			/* NULL when max_rep == 0 */
	int64		nvals;
	PqVal	   *vals;
	/* row cursor */
	int64		at_lev;
	int64		at_val;
} PqColData;

typedef struct PqReader PqReader;

extern PqReader *obs_pq_reader_open(File file, const char *name);
extern int	obs_pq_reader_nfields(PqReader *r);
extern PqField *obs_pq_reader_field(PqReader *r, int i);
extern void obs_pq_reader_select(PqReader *r, int field, bool wanted);
/* the next row group's selected columns; false at the end of the file */
extern bool obs_pq_reader_next_row_group(PqReader *r, int64 *nrows);
extern PqColData *obs_pq_reader_column(PqReader *r, int field);

/* import.c: COPY table FROM ... (FORMAT parquet) */
extern uint64 obs_pq_import(CopyStmt *stmt, const char *query_string);

#endif							/* OBS_PQ_READ_H */
