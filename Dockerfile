# syntax=docker/dockerfile:1
# Multi-stage build: a static, cgo-free binary on a distroless base, run as
# a non-root user. SQLite data lives in the /data volume; set CONSOLE_DB to a
# postgres:// URL for production.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/console ./cmd/console \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/console /usr/local/bin/console
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV CONSOLE_ADDR=:8080 CONSOLE_DB=/data/console.db CONSOLE_SECRET_KEY=/data/console-secret.key
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/console"]
CMD ["serve"]
