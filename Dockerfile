# rumourwatch: the live dashboard and worker. The data bundle is mounted, never baked in:
#   docker build -t rumourwatch .
#   docker run -p 8501:8501 -v /path/to/shared/data:/data:ro -v rumourwatch-state:/app/state rumourwatch
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-cjk chromium poppler-utils make \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt pyproject.toml ./
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN pip install --no-cache-dir --no-deps -e .

ENV RUMOURWATCH_DATA_DIR=/data \
    RUMOURWATCH_DB_PATH=/app/state/demo.db \
    RUMOURWATCH_MODELS_DIR=/app/state/models \
    PYTHONUNBUFFERED=1
EXPOSE 8501
# Trains the models on first start when absent, replays the bundle and serves the dashboard.
CMD ["rumourwatch", "demo", "--port", "8501"]
