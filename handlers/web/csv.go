package web

import (
	"encoding/csv"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// CSVDownload streams a CSV file: rows go to the client as they are read,
// flushed every csvFlushEvery rows, so nothing holds the whole file.
type CSVDownload struct {
	c       echo.Context
	w       *csv.Writer
	pending int
}

const csvFlushEvery = 500

// Write adds one row.
func (d *CSVDownload) Write(rec []string) error {
	if err := d.w.Write(rec); err != nil {
		return err
	}
	if d.pending++; d.pending == csvFlushEvery {
		d.pending = 0
		d.w.Flush()
		d.c.Response().Flush()
		return d.w.Error()
	}
	return nil
}

// Close flushes what is left and returns err, or else the first write error.
func (d *CSVDownload) Close(err error) error {
	d.w.Flush()
	if err == nil {
		err = d.w.Error()
	}
	return err
}

// StartCSV sends the headers of a CSV download and its header row; rows
// follow through the returned writer.
func StartCSV(c echo.Context, filename string, header []string) *CSVDownload {
	if !strings.HasSuffix(strings.ToLower(filename), ".csv") {
		filename += ".csv"
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": filename})
	if disposition == "" {
		disposition = "attachment"
	}
	h.Set(echo.HeaderContentDisposition, disposition)
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	d := &CSVDownload{c: c, w: csv.NewWriter(c.Response())}
	_ = d.w.Write(header)
	return d
}
