from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0002_upload_figures"),
    ]

    operations = [
        migrations.AddField(
            model_name="upload",
            name="lang",
            field=models.CharField(blank=True, max_length=8),
        ),
    ]
