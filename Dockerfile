# One image for web, worker, scheduler and the mail receiver (manage.py receive_mail, port 2525).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN LAUNCHREADY_STATIC_MANIFEST=1 STATIC_ROOT=/app/staticfiles python manage.py collectstatic --noinput -v0 \
    && useradd --system --home /app launchready && chown -R launchready /app
USER launchready
EXPOSE 8000 2525
CMD ["gunicorn", "launchready.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", "--access-logfile", "-", "--logger-class", "launchready.gunicorn_logging.ScrubbedLogger"]
