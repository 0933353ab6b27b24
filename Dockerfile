# hocvuso in one image: the same install as the README (pip from pyproject.toml), then serve.
FROM python:3.11-slim

WORKDIR /app
COPY . .
RUN pip install --no-cache-dir . \
    && useradd --create-home --uid 10001 hocvuso \
    && mkdir -p /app/data && chown hocvuso /app/data
USER hocvuso

# SQLite in a volume by default; set HOCVUSO_DATABASE_URL for PostgreSQL.
ENV HOCVUSO_DATABASE_URL=sqlite:////app/data/hocvuso.db
VOLUME ["/app/data"]
EXPOSE 8000
CMD ["hocvuso", "serve", "--host", "0.0.0.0", "--port", "8000"]
