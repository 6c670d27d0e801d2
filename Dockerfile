# Builds the one tollgate binary; the same image runs `api`, `worker` and `migrate`.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/tollgate ./cmd/tollgate

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tollgate /usr/local/bin/tollgate
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/tollgate"]
CMD ["api"]
