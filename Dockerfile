# syntax=docker/dockerfile:1
# Production image: a static binary without the emulated tenant (tag
# noemulator) on distroless, running as a non-root user. .ci/run builds the
# same binary with the same flags.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -tags noemulator -o /mfaportal .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /mfaportal /mfaportal
# nonroot is uid 65532; the number works without /etc/passwd lookups, and
# deploy/Containerfile.offline (what CI builds, with no registry) says the same.
USER 65532:65532
EXPOSE 8080
# No shell in the image: the binary probes its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 CMD ["/mfaportal", "healthcheck"]
ENTRYPOINT ["/mfaportal"]
CMD ["serve"]
