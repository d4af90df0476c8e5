package imports

// The batch statements, for TestBatchStatementsProbeIndexesWithoutStatistics.
const (
	BulkStaging        = bulkStaging
	BulkStage          = bulkStage
	BulkCreateContacts = bulkCreateContacts
	BulkHistory        = bulkHistory
	BulkApply          = bulkApply
)
